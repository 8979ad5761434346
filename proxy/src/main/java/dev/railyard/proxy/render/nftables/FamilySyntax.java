package dev.railyard.proxy.render.nftables;

import dev.railyard.nftables.Family;
import dev.railyard.proxy.model.IpFamily;

/** How the rules of one IP family spell addresses: {@code ip}/{@code ipv4_addr} or {@code ip6}/{@code ipv6_addr}. */
record FamilySyntax(Family table, String ipX, String addressType, String noLocalhost) {
    static FamilySyntax of(IpFamily family) {
        return family == IpFamily.V6
                ? new FamilySyntax(Family.IP6, "ip6", "ipv6_addr", "ip6 daddr != ::1")
                : new FamilySyntax(Family.IP, "ip", "ipv4_addr", "ip daddr != 127.0.0.0/8");
    }
}
