package dev.railyard.proxy.apply;

import dev.railyard.proxy.model.IpFamily;

/** Which iptables programs serve which family with which backend. */
final class IptablesBinaries {
    private IptablesBinaries() {
    }

    /** {@code iptables} or {@code ip6tables}, e.g. {@code iptables-legacy}. */
    static String iptables(IpFamily family, IptablesBackend backend) {
        return backend.program(base(family), "");
    }

    /** {@code iptables-restore} or {@code ip6tables-restore}, e.g. {@code iptables-nft-restore}. */
    static String restore(IpFamily family, IptablesBackend backend) {
        return backend.program(base(family), "-restore");
    }

    /** {@code iptables-save} or {@code ip6tables-save}, e.g. {@code ip6tables-legacy-save}. */
    static String save(IpFamily family, IptablesBackend backend) {
        return backend.program(base(family), "-save");
    }

    private static String base(IpFamily family) {
        return family == IpFamily.V4 ? "iptables" : "ip6tables";
    }
}
