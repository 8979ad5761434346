package dev.railyard.proxy.kernel;

import dev.railyard.proxy.render.nftables.Layout;

/**
 * Every scenario of {@link NftablesServiceTrafficTest}, with the node programmed in the flat layout: endpoints
 * reached through data maps, hairpin traffic marked in postrouting, the mark set in place. Same packets, same
 * outcomes.
 */
class FlatLayoutServiceTrafficTest extends NftablesServiceTrafficTest {
    @Override
    Layout layout() {
        return Layout.FLAT;
    }
}
