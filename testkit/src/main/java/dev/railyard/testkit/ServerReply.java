package dev.railyard.testkit;

/**
 * A {@link NetnsAgent} server's answer, {@code NAME CLIENT_IP:CLIENT_PORT}: which server handled the
 * connection and the client address it saw, i.e. after any DNAT/SNAT the kernel applied on the way.
 */
public record ServerReply(String serverName, String clientIp, int clientPort) {

    public static ServerReply parse(String line) {
        String[] parts = line.strip().split(" ", 2);
        if (parts.length != 2) {
            throw new IllegalArgumentException("not a server reply (NAME IP:PORT): '" + line + "'");
        }
        String hostPort = parts[1];
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("not a server reply (NAME IP:PORT): '" + line + "'");
        }
        String ip = hostPort.substring(0, colon);
        if (ip.startsWith("[") && ip.endsWith("]")) {
            ip = ip.substring(1, ip.length() - 1);
        }
        return new ServerReply(parts[0], ip, Integer.parseInt(hostPort.substring(colon + 1)));
    }
}
