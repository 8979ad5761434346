package dev.railyard.proxy.apply;

/** One line of iptables-restore input with its 1-based line number (kube-proxy's LineData). */
public record InputLine(int number, String text) {

    @Override
    public String toString() {
        return number + ": " + text;
    }
}
