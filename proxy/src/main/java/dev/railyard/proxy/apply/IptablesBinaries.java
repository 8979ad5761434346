package dev.railyard.proxy.apply;

import dev.railyard.proxy.model.IpFamily;

/** Which iptables programs serve which family. */
final class IptablesBinaries {
    private IptablesBinaries() {
    }

    /** {@code iptables} or {@code ip6tables}. */
    static String iptables(IpFamily family) {
        return family == IpFamily.V4 ? "iptables" : "ip6tables";
    }

    /** {@code iptables-restore} or {@code ip6tables-restore}. */
    static String restore(IpFamily family) {
        return family == IpFamily.V4 ? "iptables-restore" : "ip6tables-restore";
    }

    /** {@code iptables-save} or {@code ip6tables-save}. */
    static String save(IpFamily family) {
        return family == IpFamily.V4 ? "iptables-save" : "ip6tables-save";
    }
}
