package dev.railyard.proxy.render.nftables;

import dev.railyard.nftables.Element;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePortName;

import java.util.List;

/**
 * What one service port put in the kernel: its elements of the shared sets and maps (the flat layout's endpoints
 * among them), its own chains and sets (affinity). Everything of its own has the port's name in it, so no other
 * port can use it.
 *
 * @param source the service port and endpoints this was rendered from, to render again for comparison
 */
record ServicePortRules(ServicePortName name, List<Element> elements, List<String> chains, List<String> sets,
                        ProxyState.Entry source) {
}
