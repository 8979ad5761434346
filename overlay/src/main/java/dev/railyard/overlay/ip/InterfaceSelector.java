package dev.railyard.overlay.ip;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.config.Ip6Address;
import dev.railyard.overlay.config.Ip6Net;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;

/**
 * flannel's choice of the external interface (main.go and pkg/ipmatch): the {@code --iface} values in order (a
 * name or an address), then the {@code --iface-regex} patterns (tried against every interface's addresses
 * first, then against names), then {@code --iface-can-reach} (the interface {@code ip route get} picks); when
 * none of those is given, the interface holding {@code --public-ip} (or {@code --public-ipv6}), else the default
 * route's. In dual-stack both families must use one interface. Given selectors that match nothing end with an
 * {@link IpException} naming each selector and what the host has.
 */
public final class InterfaceSelector {

    /**
     * @param ifaces {@code --iface} values (names or addresses), tried in order
     * @param ifaceRegexes {@code --iface-regex} patterns, tried in order after {@code ifaces}
     * @param canReach {@code --iface-can-reach}, an address, or null
     * @param publicIp {@code --public-ip}, or null
     * @param publicIpv6 {@code --public-ipv6}, or null
     */
    public record Options(List<String> ifaces, List<String> ifaceRegexes, String canReach, String publicIp,
                          String publicIpv6) {
        public Options {
            ifaces = ifaces == null ? List.of() : List.copyOf(ifaces);
            ifaceRegexes = ifaceRegexes == null ? List.of() : List.copyOf(ifaceRegexes);
            canReach = blankToNull(canReach);
            publicIp = blankToNull(publicIp);
            publicIpv6 = blankToNull(publicIpv6);
            // Checked here, at start, whatever the network's families: not only once etcd has answered.
            if (publicIp != null) {
                parse4(publicIp);
            }
            if (publicIpv6 != null) {
                parse6(publicIpv6, "--public-ipv6");
            }
        }

        boolean anySelector() {
            return !ifaces.isEmpty() || !ifaceRegexes.isEmpty() || canReach != null;
        }
    }

    private record Addr4(int address, int prefixLength) {
    }

    private record Addr6(Ip6Address address, int prefixLength, boolean global) {
    }

    private record Link(String name, int mtu, List<Addr4> v4, List<Addr6> v6) {
        String describe() {
            List<String> all = new ArrayList<>();
            v4.forEach(a -> all.add(Ip4Net.formatAddress(a.address)));
            v6.forEach(a -> all.add(a.address.toString()));
            return name + " [" + String.join(" ", all) + "]";
        }
    }

    /** An interface with the address a selector picked on it, if it picked one. */
    private record Match(Link link, Integer v4, Ip6Address v6) {
    }

    private final IpRunner ip;

    public InterfaceSelector(IpRunner ip) {
        this.ip = ip;
    }

    /** Chooses the interface for the enabled families. */
    public ExternalInterface select(Options options, boolean ipv4, boolean ipv6) {
        if (!ipv4 && !ipv6) {
            throw new IllegalArgumentException("no address family enabled");
        }
        List<Link> links = links();
        Match match;
        if (!options.anySelector()) {
            match = byPublicIpOrDefaultRoute(links, options, ipv4, ipv6);
        } else {
            match = null;
            List<String> misses = new ArrayList<>();
            for (String iface : options.ifaces()) {
                try {
                    match = byNameOrAddress(links, iface, options, ipv4, ipv6);
                    break;
                } catch (IpException e) {
                    misses.add("--iface " + iface + ": " + e.getMessage());
                }
            }
            for (int i = 0; match == null && i < options.ifaceRegexes().size(); i++) {
                String regex = options.ifaceRegexes().get(i);
                match = byRegex(links, regex, ipv4, ipv6);
                if (match == null) {
                    misses.add("--iface-regex " + regex + ": no interface address or name matches");
                }
            }
            if (match == null && options.canReach() != null) {
                try {
                    match = byRoute(links, options.canReach());
                } catch (IpException e) {
                    misses.add("--iface-can-reach " + options.canReach() + ": " + e.getMessage());
                }
            }
            if (match == null) {
                throw new IpException("no interface matches " + String.join("; ", misses) + "; interfaces"
                        + where() + ": " + links.stream().map(Link::describe).collect(Collectors.joining(", ")));
            }
        }
        return complete(match, options, ipv4, ipv6);
    }

    private Match byPublicIpOrDefaultRoute(List<Link> links, Options options, boolean ipv4, boolean ipv6) {
        String publicIp = ipv4 ? options.publicIp() : null;
        String publicIpv6 = ipv6 ? options.publicIpv6() : null;
        String given = publicIp != null ? publicIp : publicIpv6;
        if (given != null) {
            try {
                return byNameOrAddress(links, given, options, ipv4, ipv6);
            } catch (IpException notLocal) {
                // Behind NAT the public address is not on this host (flannel exits here); use the default route.
            }
        }
        Link link = null;
        if (ipv4) {
            link = find(links, defaultRouteDevice("-4"));
        }
        if (ipv6) {
            Link six = find(links, defaultRouteDevice("-6"));
            if (link != null && !link.name.equals(six.name)) {
                throw new IpException("the IPv6 default route's interface " + six.name + " is not the IPv4 default "
                        + "route's " + link.name + "; dual-stack needs one interface (pass --iface)");
            }
            link = six;
        }
        return new Match(link, null, null);
    }

    /** A name, or an address that one of the interfaces holds. */
    private Match byNameOrAddress(List<Link> links, String wanted, Options options, boolean ipv4, boolean ipv6) {
        if (Ip6Address.looksLikeIpv6(wanted)) {
            Ip6Address a = parse6(wanted, "--iface");
            for (Link l : links) {
                if (l.v6.stream().anyMatch(x -> x.address.equals(a))) {
                    return new Match(l, null, a);
                }
            }
            throw new IpException("no interface with that name or address");
        }
        if (wanted.matches("[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+")) {
            int a;
            try {
                a = Ip4Net.parseAddress(wanted);
            } catch (IllegalArgumentException e) {
                throw new IpException(e.getMessage());
            }
            for (Link l : links) {
                if (l.v4.stream().anyMatch(x -> x.address == a)) {
                    Ip6Address six = null;
                    if (ipv6 && options.publicIpv6() != null) {
                        // flannel: a dual-stack host's --public-ipv6 must sit on the interface --iface names
                        Ip6Address p6 = parse6(options.publicIpv6(), "--public-ipv6");
                        Link other = links.stream().filter(o -> o.v6.stream().anyMatch(x -> x.address.equals(p6)))
                                .findFirst().orElse(null);
                        if (other != null && !other.name.equals(l.name)) {
                            throw new IpException("the IPv6 interface " + other.name + " must be the IPv4 interface " + l.name);
                        }
                        six = other == null ? null : p6;
                    }
                    return new Match(l, a, six);
                }
            }
            throw new IpException("no interface with that name or address");
        }
        return new Match(find(links, wanted), null, null);
    }

    private Match byRegex(List<Link> links, String regex, boolean ipv4, boolean ipv6) {
        Pattern pattern;
        try {
            pattern = Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new IpException("--iface-regex " + regex + ": not a regular expression: " + e.getDescription());
        }
        // As flannel: every interface's addresses first (in dual-stack one of each family on the same interface) ...
        for (Link l : links) {
            Integer v4 = null;
            Ip6Address v6 = null;
            if (ipv4) {
                v4 = l.v4.stream().map(Addr4::address).filter(a -> pattern.matcher(Ip4Net.formatAddress(a)).find())
                        .findFirst().orElse(null);
                if (v4 == null) {
                    continue;
                }
            }
            if (ipv6) {
                v6 = l.v6.stream().map(Addr6::address).filter(a -> pattern.matcher(a.toString()).find())
                        .findFirst().orElse(null);
                if (v6 == null) {
                    continue;
                }
            }
            return new Match(l, v4, v6);
        }
        // ... then names
        for (Link l : links) {
            if (pattern.matcher(l.name).find()) {
                return new Match(l, null, null);
            }
        }
        return null;
    }

    private Match byRoute(List<Link> links, String destination) {
        String family = Ip6Address.looksLikeIpv6(destination) ? "-6" : "-4";
        if (family.equals("-4")) {
            try {
                Ip4Net.parseAddress(destination);
            } catch (IllegalArgumentException e) {
                throw new IpException(e.getMessage());
            }
        } else {
            parse6(destination, "--iface-can-reach");
        }
        JsonArray routes;
        try {
            routes = JsonParser.parseString(ip.run("ip", "-j", family, "route", "get", destination)).getAsJsonArray();
        } catch (IpException e) {
            throw new IpException("no route to it");
        }
        if (routes.isEmpty() || !routes.get(0).getAsJsonObject().has("dev")) {
            throw new IpException("no route to it");
        }
        JsonObject route = routes.get(0).getAsJsonObject();
        Link link = find(links, route.get("dev").getAsString());
        Integer v4 = null;
        Ip6Address v6 = null;
        if (route.has("prefsrc")) {
            String src = route.get("prefsrc").getAsString();
            if (family.equals("-4")) {
                v4 = Ip4Net.parseAddress(src);
            } else {
                v6 = Ip6Address.parse(src);
            }
        }
        return new Match(link, v4, v6);
    }

    private ExternalInterface complete(Match m, Options options, boolean ipv4, boolean ipv6) {
        Link l = m.link;
        if (l.mtu <= 0) {
            throw new IpException("interface " + l.name + " reports no MTU");
        }
        int address = 0;
        Ip4Net network = null;
        int publicIp = 0;
        if (ipv4) {
            Addr4 a = m.v4 == null ? l.v4.stream().findFirst().orElse(null)
                    : l.v4.stream().filter(x -> x.address == m.v4).findFirst().orElse(new Addr4(m.v4, 32));
            if (a == null) {
                throw new IpException("interface " + l.name + " has no IPv4 address" + where());
            }
            address = a.address;
            network = new Ip4Net(a.address & Ip4Net.mask(a.prefixLength), a.prefixLength);
            publicIp = options.publicIp() == null ? address : parse4(options.publicIp());
        }
        Ip6Address address6 = null;
        Ip6Net network6 = null;
        Ip6Address publicIpv6 = null;
        if (ipv6) {
            Addr6 a = m.v6 == null ? l.v6.stream().filter(Addr6::global).findFirst()
                    .orElse(l.v6.stream().findFirst().orElse(null))
                    : l.v6.stream().filter(x -> x.address.equals(m.v6)).findFirst().orElse(new Addr6(m.v6, 128, true));
            if (a == null) {
                throw new IpException("interface " + l.name + " has no IPv6 address" + where());
            }
            address6 = a.address;
            network6 = new Ip6Net(a.address.mask(a.prefixLength), a.prefixLength);
            publicIpv6 = options.publicIpv6() == null ? address6 : parse6(options.publicIpv6(), "--public-ipv6");
        }
        return new ExternalInterface(l.name, address, network, publicIp, l.mtu, address6, network6, publicIpv6);
    }

    private Link find(List<Link> links, String name) {
        for (Link l : links) {
            if (l.name.equals(name)) {
                return l;
            }
        }
        throw new IpException("no interface with that name or address");
    }

    private List<Link> links() {
        JsonArray array = JsonParser.parseString(ip.run("ip", "-j", "addr", "show")).getAsJsonArray();
        List<Link> links = new ArrayList<>();
        for (JsonElement e : array) {
            JsonObject link = e.getAsJsonObject();
            List<Addr4> v4 = new ArrayList<>();
            List<Addr6> v6 = new ArrayList<>();
            JsonArray addrs = link.has("addr_info") ? link.getAsJsonArray("addr_info") : new JsonArray();
            for (JsonElement ae : addrs) {
                JsonObject a = ae.getAsJsonObject();
                if (!a.has("local") || !a.has("family")) {
                    continue;
                }
                String family = a.get("family").getAsString();
                int len = a.get("prefixlen").getAsInt();
                if (family.equals("inet")) {
                    v4.add(new Addr4(Ip4Net.parseAddress(a.get("local").getAsString()), len));
                } else if (family.equals("inet6")) {
                    String scope = a.has("scope") ? a.get("scope").getAsString() : "";
                    boolean deprecated = a.has("deprecated") && a.get("deprecated").getAsBoolean();
                    // flannel: global or link-local unicast, not deprecated
                    if (!deprecated && (scope.equals("global") || scope.equals("link"))) {
                        v6.add(new Addr6(Ip6Address.parse(a.get("local").getAsString()), len, scope.equals("global")));
                    }
                }
            }
            links.add(new Link(link.get("ifname").getAsString(), link.has("mtu") ? link.get("mtu").getAsInt() : 0, v4, v6));
        }
        return links;
    }

    private String defaultRouteDevice(String family) {
        JsonArray routes = JsonParser.parseString(ip.run("ip", "-j", family, "route", "show", "default")).getAsJsonArray();
        for (JsonElement r : routes) {
            JsonObject o = r.getAsJsonObject();
            if (o.has("dev")) {
                return o.get("dev").getAsString();
            }
        }
        throw new IpException("no " + (family.equals("-4") ? "IPv4" : "IPv6") + " default route to pick the external "
                + "interface from" + where() + "; pass --iface");
    }

    private String where() {
        return ip.netns() == null ? "" : " in network namespace " + ip.netns();
    }

    private static int parse4(String s) {
        try {
            return Ip4Net.parseAddress(s);
        } catch (IllegalArgumentException e) {
            throw new IpException("--public-ip: " + e.getMessage(), e);
        }
    }

    private static Ip6Address parse6(String s, String flag) {
        try {
            return Ip6Address.parse(s);
        } catch (IllegalArgumentException e) {
            throw new IpException(flag + ": " + e.getMessage(), e);
        }
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }
}
