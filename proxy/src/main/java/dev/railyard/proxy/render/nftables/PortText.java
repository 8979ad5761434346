package dev.railyard.proxy.render.nftables;

/**
 * Port numbers as element fields, one string per port number for the whole process: an endpoint map holds one
 * element per endpoint, and with 100,000 endpoints a fresh "8080" in each was ~6 MB for a handful of distinct
 * values. Racy by design: two threads may both fill a slot, with equal strings.
 */
final class PortText {
    private static final String[] TEXTS = new String[65536];

    private PortText() {
    }

    static String of(int port) {
        if (port < 0 || port >= TEXTS.length) {
            return Integer.toString(port);
        }
        String text = TEXTS[port];
        if (text == null) {
            text = Integer.toString(port);
            TEXTS[port] = text;
        }
        return text;
    }
}
