package dev.railyard.netlink;

/** Base chain types; the kernel knows them by these names. */
public enum ChainType {
    FILTER("filter"),
    NAT("nat"),
    ROUTE("route");

    private final String kernelName;

    ChainType(String kernelName) {
        this.kernelName = kernelName;
    }

    public String kernelName() {
        return kernelName;
    }
}
