package dev.railyard.proxy.inspect.iptables;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.inspect.LocalAddresses;
import dev.railyard.proxy.inspect.Origin;
import dev.railyard.proxy.inspect.Packet;
import dev.railyard.proxy.inspect.PacketEvaluator;
import dev.railyard.proxy.inspect.RulesetInputException;
import dev.railyard.proxy.inspect.Trace;
import dev.railyard.proxy.model.Protocol;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;

/** Properties of the iptables-save reader over generated rules and junk. */
class IptablesSaveParserProperties {
    private static final LocalAddresses LOCAL = LocalAddresses.of(List.of("192.168.1.10"));

    /** Whatever text a comment holds, iptables-save's quoting of it reads back as the same one word. */
    @Property
    void aQuotedWordReadsBackAsItself(@ForAll @StringLength(max = 40) String word) {
        String clean = word.replace('\n', ' ').replace('\r', ' ');
        if (clean.isEmpty()) {
            return;
        }
        assertThat(SaveWords.split("-A X --comment " + SaveWords.quote(clean) + " -j Y"))
                .containsExactly("-A", "X", "--comment", clean, "-j", "Y");
    }

    /** No text, however broken, ends in anything but a RulesetInputException naming a line. */
    @Property(tries = 1000)
    void junkNeverEndsInAnExceptionOtherThanABadInputReport(@ForAll("junk") String text) {
        try {
            IptablesServiceRuleset.fromText("junk", "junk", text, LOCAL)
                    .trace(Packet.of("203.0.113.9", "10.96.0.10", 80, Protocol.TCP, Origin.EXTERNAL));
        } catch (RulesetInputException e) {
            assertThat(e.getMessage()).startsWith("junk");
        }
    }

    /**
     * A rule written the way {@code railyard render} writes it and the way iptables-save prints it (different word
     * order, {@code /32} masks, MARK spelled as {@code --set-xmark}) sends every packet to the same place.
     */
    @Property(tries = 300)
    void railyardsSpellingAndIptablesSavesMeanTheSame(@ForAll @Size(min = 1, max = 6) List<@From("rules") GeneratedRule> rules,
                                                      @ForAll @Size(min = 1, max = 5) List<@From("packets") Packet> packets)
            throws Exception {
        StringBuilder railyard = new StringBuilder("*nat\n:PREROUTING ACCEPT [0:0]\n:MARKED - [0:0]\n");
        StringBuilder saved = new StringBuilder(railyard);
        for (GeneratedRule rule : rules) {
            railyard.append(rule.railyard()).append('\n');
            saved.append(rule.saved()).append('\n');
        }
        railyard.append("-A MARKED -j MARK --or-mark 0x00004000\nCOMMIT\n");
        saved.append("-A MARKED -j MARK --set-xmark 0x4000/0x4000\nCOMMIT\n");
        IptablesServiceRuleset a = IptablesServiceRuleset.fromText("a", "a", railyard.toString(), LOCAL);
        IptablesServiceRuleset b = IptablesServiceRuleset.fromText("b", "b", saved.toString(), LOCAL);
        for (Packet packet : packets) {
            Trace ta = a.trace(packet);
            Trace tb = b.trace(packet);
            assertThat(ta.outcomes()).as("%s%n%s%n%s", packet, railyard, saved).isEqualTo(tb.outcomes());
        }
    }

    /**
     * Skipping the rules of long chains that cannot match the destination (what traces without a path do, for
     * diff) never changes an outcome.
     */
    @Property(tries = 300)
    void tracesWithoutAPathEndTheSameWayAsTracesWithOne(
            @ForAll @Size(min = 16, max = 40) List<@From("rules") GeneratedRule> rules,
            @ForAll @Size(min = 1, max = 5) List<@From("packets") Packet> packets) throws Exception {
        StringBuilder text = new StringBuilder("*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:MARKED - [0:0]\n");
        for (GeneratedRule rule : rules) {
            text.append(rule.saved()).append('\n');
            text.append(rule.saved().replace("-A PREROUTING", "-A OUTPUT")).append('\n');
        }
        text.append("-A MARKED -j MARK --set-xmark 0x4000/0x4000\nCOMMIT\n");
        IptablesServiceRuleset ruleset = IptablesServiceRuleset.fromText("a", "a", text.toString(), LOCAL);
        for (Packet packet : packets) {
            assertThat(ruleset.trace(packet, PacketEvaluator.Detail.OUTCOMES).outcomes()).as("%s%n%s", packet, text)
                    .isEqualTo(ruleset.trace(packet, PacketEvaluator.Detail.PATH).outcomes());
        }
    }

    // ---------------------------------------------------------------------------------------------------------

    /** One rule's parts, printed in both spellings. */
    record GeneratedRule(String destination, String source, boolean negateSource, String protocol, Integer port,
                         String comment, Double probability, String target) {
        String railyard() {
            List<String> words = new ArrayList<>(List.of("-A", "PREROUTING"));
            if (comment != null) {
                words.addAll(List.of("-m", "comment", "--comment", SaveWords.quote(comment)));
            }
            if (protocol != null) {
                words.addAll(List.of("-m", protocol, "-p", protocol));
            }
            if (destination != null) {
                words.addAll(List.of("-d", destination));
            }
            if (protocol != null && port != null) {
                words.addAll(List.of("--dport", String.valueOf(port)));
            }
            if (source != null) {
                if (negateSource) {
                    words.add("!");
                }
                words.addAll(List.of("-s", source));
            }
            if (probability != null) {
                words.addAll(List.of("-m", "statistic", "--mode", "random", "--probability",
                        String.format(java.util.Locale.ROOT, "%.10f", probability)));
            }
            words.addAll(List.of("-j", target));
            return String.join(" ", words);
        }

        String saved() {
            List<String> words = new ArrayList<>(List.of("-A", "PREROUTING"));
            if (source != null) {
                if (negateSource) {
                    words.add("!");
                }
                words.addAll(List.of("-s", source.contains("/") ? source : source + "/32"));
            }
            if (destination != null) {
                words.addAll(List.of("-d", destination.contains("/") ? destination : destination + "/32"));
            }
            if (protocol != null) {
                words.addAll(List.of("-p", protocol));
            }
            if (comment != null) {
                words.addAll(List.of("-m", "comment", "--comment", SaveWords.quote(comment)));
            }
            if (protocol != null) {
                words.addAll(List.of("-m", protocol));
                if (port != null) {
                    words.addAll(List.of("--dport", String.valueOf(port)));
                }
            }
            if (probability != null) {
                words.addAll(List.of("-m", "statistic", "--mode", "random", "--probability",
                        String.format(java.util.Locale.ROOT, "%.10f", probability)));
            }
            words.addAll(List.of("-j", target));
            return String.join(" ", words);
        }
    }

    @Provide
    Arbitrary<GeneratedRule> rules() {
        Arbitrary<String> addresses = Arbitraries.of("10.96.0.10", "10.96.0.11", "10.244.1.2", "203.0.113.9",
                "10.244.0.0/16", "10.96.0.0/12", "0.0.0.0/0");
        Arbitrary<String> protocols = Arbitraries.of("tcp", "udp", "sctp");
        Arbitrary<String> comments = Arbitraries.strings().withChars("ab/: \"\\-").ofMinLength(1).ofMaxLength(12);
        Arbitrary<String> targets = Arbitraries.of("MARKED", "ACCEPT", "RETURN",
                "DNAT --to-destination 10.244.1.2:8080", "DNAT --to-destination 10.244.2.2", "MASQUERADE");
        return Combinators.combine(addresses.injectNull(0.3), addresses.injectNull(0.5), Arbitraries.of(true, false),
                protocols.injectNull(0.3), Arbitraries.of(80, 53, 8080).injectNull(0.3), comments.injectNull(0.4),
                Arbitraries.of(0.5, 0.3333333333, 0.25).injectNull(0.7), targets).as(GeneratedRule::new);
    }

    @Provide
    Arbitrary<Packet> packets() {
        return Combinators.combine(Arbitraries.of("10.244.1.2", "10.244.7.7", "203.0.113.9", "192.168.1.10"),
                Arbitraries.of("10.96.0.10", "10.96.0.11", "10.244.1.2"), Arbitraries.of(80, 53, 8080),
                Arbitraries.of(Protocol.TCP, Protocol.UDP, Protocol.SCTP), Arbitraries.of(Origin.EXTERNAL, Origin.NODE))
                .as(Packet::of);
    }

    @Provide
    Arbitrary<String> junk() {
        Arbitrary<String> words = Arbitraries.of("*nat", "*filter", "COMMIT", ":X - [0:0]", ":INPUT ACCEPT [0:0]",
                ":PREROUTING DROP", "-A X", "-A INPUT", "-A PREROUTING", "-j", "-g", "X", "ACCEPT", "DNAT",
                "--to-destination", "[::1]:80", "10.0.0.1:99999", "1.2.3.4-1.2.3.9", "-m", "tcp", "recent",
                "statistic", "--probability", "2", "NaN", "-p", "--dport", "1:0", "70000", "!", "! !", "-s",
                "10.0.0.0/33", "fd00::/200", "\"", "\\", "-I", "-I X 0", "-X", "-F", "-N X", "-P INPUT", "mark",
                "--mark", "0xffffffffff", "/", "--set-xmark", "MARK", "-c", "[1:2]", "#", "-m comment --comment",
                "--ctstate", "conntrack", "addrtype", "--dst-type", "LOCAL", "multiport", "--dports", "1,2:3,",
                "-d", "255.255.255.0/255.0.255.0", "REDIRECT", "--to-ports", "8080-8090");
        Arbitrary<String> line = words.list().ofMinSize(1).ofMaxSize(8).map(l -> String.join(" ", l));
        // Mostly inside a well-formed table, so that the rule reader, not only the table reader, meets the junk.
        Arbitrary<String> rule = Combinators.combine(Arbitraries.of("-A PREROUTING ", "-A X ", ""), line)
                .as((prefix, words1) -> prefix + words1);
        return Combinators.combine(Arbitraries.of("*nat\n:PREROUTING ACCEPT [0:0]\n:X - [0:0]\n", ""),
                rule.list().ofMinSize(1).ofMaxSize(12).map(l -> String.join("\n", l)),
                Arbitraries.of("\nCOMMIT\n", "\n")).as((head, body, tail) -> head + body + tail);
    }
}
