package dev.railyard.nftables.netlink;

import dev.railyard.netlink.DataType;
import dev.railyard.netlink.Field;
import dev.railyard.netlink.SetElement;
import dev.railyard.netlink.SetSpec;
import dev.railyard.netlink.TypeOf;
import dev.railyard.netlink.Values;
import dev.railyard.netlink.Verdict;
import dev.railyard.nftables.Element;
import dev.railyard.nftables.NftMap;
import dev.railyard.nftables.NftSet;
import dev.railyard.nftables.Verdicts;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The types of sets and maps, from the model's type text ({@code ipv4_addr . inet_proto . inet_service : verdict},
 * {@code typeof numgen random mod 1 : ip daddr . th dport}) to netlink {@link SetSpec}s, and element tokens to
 * {@link SetElement}s by the types of their container. Types: {@code ipv4_addr}, {@code ipv6_addr},
 * {@code inet_proto} (tcp, udp, sctp), {@code inet_service} (a port), map values {@code verdict}; typeof
 * expressions {@code numgen random mod N} (an integer key), {@code ip|ip6 saddr|daddr}, {@code th dport}.
 * Anything else is refused with an {@link IllegalArgumentException} naming the set and the word.
 */
public final class SetTypes {
    private SetTypes() {
    }

    /**
     * What elements of a container need: its key fields, and for a map its value fields (one {@link
     * DataType#VERDICT} for a verdict map).
     */
    public record ContainerType(String name, boolean map, List<DataType> key, List<DataType> value,
                                boolean interval) {
        public ContainerType {
            key = List.copyOf(key);
            value = List.copyOf(value);
        }

        public boolean verdictMap() {
            return value.size() == 1 && value.get(0) == DataType.VERDICT;
        }

        /** The types as the kernel holds them (a set listed from the kernel). */
        public static ContainerType of(SetSpec spec) {
            List<DataType> value = spec.dataType() == null ? List.of() : spec.dataType().fields();
            return new ContainerType(spec.name(), spec.isMap(), spec.keyType().fields(), value,
                    spec.flags().contains(SetSpec.Flag.INTERVAL));
        }
    }

    /** {@code add set}: type (or typeof), flags, timeout, size and comment. */
    public static SetSpec spec(NftSet set) {
        SetSpec.Builder builder = SetSpec.set(set.name());
        if (set.typeOf()) {
            builder.keyTypeof(typeOf(set.type(), set.name()));
        } else {
            builder.key(types(set.type(), set.name()));
        }
        flags(builder, set.flags(), set.name());
        if (set.timeoutSeconds() > 0) {
            builder.timeout(Duration.ofSeconds(set.timeoutSeconds()));
        }
        return builder.size(set.size()).comment(set.comment()).build();
    }

    /** {@code add map}: {@code type K : V} or {@code typeof K : V}, flags and comment. */
    public static SetSpec spec(NftMap map) {
        String text = map.type();
        int colon = text.indexOf(" : ");
        if (colon < 0 || text.indexOf(" : ", colon + 1) >= 0) {
            throw new IllegalArgumentException("map " + map.name() + ": type \"" + text + "\" is not KEY : VALUE");
        }
        String key = text.substring(0, colon);
        String value = text.substring(colon + 3);
        SetSpec.Builder builder = SetSpec.map(map.name());
        if (map.typeOf()) {
            builder.keyTypeof(typeOf(key, map.name())).dataTypeof(typeOf(value, map.name()));
        } else {
            builder.key(types(key, map.name()));
            if (value.equals("verdict")) {
                builder.data(DataType.VERDICT);
            } else {
                builder.data(types(value, map.name()));
            }
        }
        flags(builder, map.flags(), map.name());
        return builder.comment(map.comment()).build();
    }

    /**
     * The element as netlink sends it: key (and, unless {@code keyOnly}, value and comment) from its tokens by the
     * container's types.
     *
     * @param keyOnly for a delete, which names the key alone
     */
    public static SetElement element(ContainerType type, Element element, boolean keyOnly) {
        if (type.interval()) {
            throw new IllegalArgumentException(what(type, element) + ": elements of interval sets are not supported");
        }
        byte[][] key = fields(type.key(), element.key(), type, element, "key");
        SetElement result = SetElement.of(key);
        if (keyOnly) {
            return result;
        }
        if (element.comment() != null) {
            result = result.withComment(element.comment());
        }
        if (element.value().isEmpty()) {
            return result; // a map element without a value: the kernel refuses it, as nft would
        }
        if (!type.map()) {
            throw new IllegalArgumentException(what(type, element) + ": an element of a set has no value");
        }
        if (type.verdictMap()) {
            if (element.value().size() != 1) {
                throw new IllegalArgumentException(what(type, element) + ": a verdict is one value, not "
                        + element.value());
            }
            return result.mapsTo(verdict(element.value().get(0), type, element));
        }
        return result.mapsTo(fields(type.value(), element.value(), type, element, "value"));
    }

    private static Verdict verdict(String text, ContainerType type, Element element) {
        String chain = Verdicts.chainOf(text);
        if (chain != null) {
            return text.startsWith("goto ") ? Verdict.goTo(chain) : Verdict.jump(chain);
        }
        return switch (text) {
            case "drop" -> Verdict.DROP;
            case "accept" -> Verdict.ACCEPT;
            case "return" -> Verdict.RETURN;
            default -> throw new IllegalArgumentException(what(type, element) + ": \"" + text
                    + "\" is not a verdict (goto X, jump X, drop, accept, return)");
        };
    }

    private static byte[][] fields(List<DataType> types, List<String> tokens, ContainerType type, Element element,
                                   String part) {
        if (types.size() != tokens.size()) {
            throw new IllegalArgumentException(what(type, element) + ": " + part + " " + tokens + " has "
                    + tokens.size() + " fields, the " + (type.map() ? "map" : "set") + " has " + types.size()
                    + " (" + types + ")");
        }
        byte[][] bytes = new byte[types.size()][];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = value(types.get(i), tokens.get(i), type, element);
        }
        return bytes;
    }

    private static byte[] value(DataType dataType, String token, ContainerType type, Element element) {
        byte[] bytes = null;
        if (dataType == DataType.IPV4_ADDR) {
            bytes = Addresses.ipv4(token);
        } else if (dataType == DataType.IPV6_ADDR) {
            bytes = Addresses.ipv6(token);
        } else if (dataType == DataType.INET_PROTO) {
            bytes = switch (token) {
                case "tcp" -> Values.inetProto(Values.TCP);
                case "udp" -> Values.inetProto(Values.UDP);
                case "sctp" -> Values.inetProto(Values.SCTP);
                default -> null;
            };
        } else if (dataType == DataType.INET_SERVICE) {
            int port = RuleCompiler.decimal(token, 0, token.length());
            bytes = port >= 0 && port <= 65535 ? Values.inetService(port) : null;
        } else if (dataType == DataType.INTEGER) {
            int number = RuleCompiler.decimal(token, 0, token.length());
            bytes = number >= 0 ? Values.u32Host(number) : null;
        } else {
            throw new IllegalArgumentException(what(type, element) + ": elements of type " + dataType.name()
                    + " are not supported");
        }
        if (bytes == null) {
            throw new IllegalArgumentException(what(type, element) + ": \"" + token + "\" is not a "
                    + dataType.name());
        }
        return bytes;
    }

    /**
     * A kernel element read back into the model's tokens: addresses in canonical text, protocols by name, ports
     * and integers in decimal, a verdict as {@code goto CHAIN}. The inverse of {@link #element}.
     */
    public static Element decode(ContainerType type, SetElement element) {
        List<String> key = tokens(type.key(), element.key(), type);
        if (!type.map()) {
            return new Element(type.name(), false, key, List.of(), element.comment());
        }
        List<String> value = type.verdictMap() ? List.of(verdictText(element.verdict()))
                : tokens(type.value(), element.data(), type);
        return new Element(type.name(), true, key, value, element.comment());
    }

    private static List<String> tokens(List<DataType> types, byte[] bytes, ContainerType type) {
        List<String> tokens = new java.util.ArrayList<>(types.size());
        int offset = 0;
        for (DataType dataType : types) {
            int length = dataType.length();
            if (offset + length > bytes.length) {
                throw new IllegalArgumentException("an element of " + type.name() + " is shorter than its type");
            }
            byte[] field = java.util.Arrays.copyOfRange(bytes, offset, offset + length);
            tokens.add(text(dataType, field, type));
            offset += types.size() == 1 ? length : dev.railyard.netlink.Registers.slotBytes(length);
        }
        return tokens;
    }

    private static String text(DataType dataType, byte[] field, ContainerType type) {
        if (dataType == DataType.IPV4_ADDR || dataType == DataType.IPV6_ADDR) {
            return Addresses.text(field);
        }
        if (dataType == DataType.INET_PROTO) {
            int proto = field[0] & 0xff;
            return proto == Values.TCP ? "tcp" : proto == Values.UDP ? "udp" : proto == Values.SCTP ? "sctp"
                    : Integer.toString(proto);
        }
        if (dataType == DataType.INET_SERVICE) {
            return Integer.toString(((field[0] & 0xff) << 8) | (field[1] & 0xff));
        }
        if (dataType == DataType.INTEGER) {
            return Integer.toUnsignedString(java.nio.ByteBuffer.wrap(field).order(java.nio.ByteOrder.nativeOrder())
                    .getInt());
        }
        throw new IllegalArgumentException("elements of type " + dataType.name() + " in " + type.name()
                + " are not supported");
    }

    private static String verdictText(Verdict verdict) {
        if (verdict == null) {
            throw new IllegalArgumentException("a verdict map element without a verdict");
        }
        // Verdict's text is nft's: accept, drop, return, jump CHAIN, goto CHAIN.
        return verdict.toString();
    }

    private static String what(ContainerType type, Element element) {
        return "element { " + element.keyText() + " } of " + (type.map() ? "map " : "set ") + type.name();
    }

    /** {@code a . b . c} of type names. */
    private static DataType[] types(String text, String container) {
        String[] names = text.split(" \\. ", -1);
        DataType[] types = new DataType[names.length];
        for (int i = 0; i < names.length; i++) {
            types[i] = switch (names[i]) {
                case "ipv4_addr" -> DataType.IPV4_ADDR;
                case "ipv6_addr" -> DataType.IPV6_ADDR;
                case "inet_proto" -> DataType.INET_PROTO;
                case "inet_service" -> DataType.INET_SERVICE;
                default -> throw new IllegalArgumentException("set " + container + ": type \"" + names[i]
                        + "\" in \"" + text + "\" is not supported (ipv4_addr, ipv6_addr, inet_proto, inet_service)");
            };
        }
        return types;
    }

    /** {@code numgen random mod N}, or payload fields joined by {@code " . "}. */
    private static TypeOf typeOf(String text, String container) {
        String[] parts = text.split(" \\. ", -1);
        List<TypeOf> members = new ArrayList<>(parts.length);
        for (String part : parts) {
            members.add(typeOfMember(part, text, container));
        }
        return members.size() == 1 ? members.get(0) : TypeOf.concat(members.toArray(TypeOf[]::new));
    }

    private static TypeOf typeOfMember(String part, String text, String container) {
        if (part.startsWith("numgen random mod ")) {
            String modulus = part.substring("numgen random mod ".length());
            int value = RuleCompiler.decimal(modulus, 0, modulus.length());
            if (value > 0) {
                return TypeOf.numgenRandom(value);
            }
        }
        Field field = switch (part) {
            case "ip saddr" -> Field.IP_SADDR;
            case "ip daddr" -> Field.IP_DADDR;
            case "ip6 saddr" -> Field.IP6_SADDR;
            case "ip6 daddr" -> Field.IP6_DADDR;
            case "th dport" -> Field.TH_DPORT;
            case "tcp dport" -> Field.TCP_DPORT;
            case "udp dport" -> Field.UDP_DPORT;
            case "sctp dport" -> Field.SCTP_DPORT;
            default -> null;
        };
        if (field == null) {
            throw new IllegalArgumentException("set or map " + container + ": typeof \"" + part + "\" in \"" + text
                    + "\" is not supported (numgen random mod N, ip/ip6 saddr/daddr, th/tcp/udp/sctp dport)");
        }
        return TypeOf.field(field);
    }

    private static void flags(SetSpec.Builder builder, List<String> flags, String container) {
        for (String flag : flags) {
            builder.flags(switch (flag) {
                case "dynamic" -> SetSpec.Flag.DYNAMIC;
                case "timeout" -> SetSpec.Flag.TIMEOUT;
                case "interval" -> SetSpec.Flag.INTERVAL;
                case "constant" -> SetSpec.Flag.CONSTANT;
                default -> throw new IllegalArgumentException("set " + container + ": flag \"" + flag
                        + "\" is not supported (dynamic, timeout, interval, constant)");
            });
        }
    }

    /** The types a set or map operation declares. */
    static ContainerType of(NftSet set) {
        return ContainerType.of(spec(set));
    }

    static ContainerType of(NftMap map) {
        return ContainerType.of(spec(map));
    }
}
