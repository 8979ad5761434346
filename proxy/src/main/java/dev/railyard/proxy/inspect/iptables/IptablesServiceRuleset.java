package dev.railyard.proxy.inspect.iptables;

import dev.railyard.proxy.inspect.EvaluatedServiceRuleset;
import dev.railyard.proxy.inspect.LocalAddresses;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.IptablesRenderer;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.inspect.RulesetInputException;

/**
 * An iptables ruleset as one node has it, with the node's local addresses: from an iptables-save dump, from an
 * iptables-restore input completed with the jump rules, or from Railyard's own render of a cluster.
 */
public final class IptablesServiceRuleset extends EvaluatedServiceRuleset<IptablesRuleset> {

    private IptablesServiceRuleset(String description, IptablesRuleset ruleset, LocalAddresses local) {
        super(description, ruleset, ruleset.notes(), local, IptablesEvaluator::new, IptablesFrontends::of);
    }

    /**
     * Rules read from iptables-save output or iptables-restore input; an input without built-in chains gets the
     * jump rules a node has ({@link InstalledJumpRules}).
     */
    public static IptablesServiceRuleset fromText(String description, String source, String text,
                                                  LocalAddresses local) throws RulesetInputException {
        IptablesRuleset ruleset = InstalledJumpRules.addWhereMissing(IptablesSaveParser.parse(source, text));
        return new IptablesServiceRuleset(description, ruleset, local);
    }

    /**
     * What {@code railyard render} writes for {@code state}, with the jump rules {@code railyard proxy} installs;
     * local addresses are the config's node IPs and loopback.
     */
    public static IptablesServiceRuleset fromRender(String description, RenderConfig config, ProxyState state) {
        String rules = new IptablesRenderer(config).render(state).toString();
        try {
            return fromText(description, "railyard render", rules, LocalAddresses.of(config.nodeIps()));
        } catch (RulesetInputException e) {
            // The renderer writes only what the parser reads; anything else is a bug in one of them.
            throw new IllegalStateException("cannot read railyard's own render: " + e.getMessage(), e);
        }
    }
}
