package dev.railyard.netlink;

/** Netfilter hooks of the ip, ip6 and inet families (NF_INET_*). */
public enum Hook {
    PREROUTING(0),
    INPUT(1),
    FORWARD(2),
    OUTPUT(3),
    POSTROUTING(4);

    private final int number;

    Hook(int number) {
        this.number = number;
    }

    public int number() {
        return number;
    }
}
