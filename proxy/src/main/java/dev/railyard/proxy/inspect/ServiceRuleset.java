package dev.railyard.proxy.inspect;

import java.util.List;
import java.util.Set;

/**
 * One node's service rules, ready to compare with another's: what it is, the frontends its rules serve, and a
 * {@link PacketEvaluator} to ask what each frontend does. The iptables implementation reads iptables-save dumps
 * and rendered rules; an nftables one would read {@code nft list ruleset}.
 */
public interface ServiceRuleset extends PacketEvaluator {

    /** What the rules were read from, e.g. "iptables-save dump node-a.rules". */
    String description();

    /** The frontends the rules serve, each once. */
    List<Frontend> frontends();

    /**
     * The source CIDRs the rules on this frontend's way test (source ranges, the pod network, endpoints for
     * hairpin traffic), as canonical text, so a comparison can probe from inside and outside each.
     */
    Set<String> sourceCidrs(Frontend frontend);

    /** The node's addresses as these rules see them (node ports are probed on them). */
    LocalAddresses localAddresses();

    /** What was assumed or added while reading the rules. */
    List<String> notes();
}
