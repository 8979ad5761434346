package dev.railyard.proxy.inspect.iptables;

import dev.railyard.proxy.inspect.Frontend;
import dev.railyard.proxy.inspect.LocalAddresses;
import dev.railyard.proxy.inspect.Packet;
import dev.railyard.proxy.inspect.ServiceRuleset;
import dev.railyard.proxy.inspect.Trace;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.IptablesRenderer;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.inspect.RulesetInputException;

import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * An iptables ruleset as one node has it, with the node's local addresses: from an iptables-save dump, from an
 * iptables-restore input completed with the jump rules, or from Railyard's own render of a cluster.
 */
public final class IptablesServiceRuleset implements ServiceRuleset {
    private final String description;
    private final IptablesEvaluator evaluator;
    /** Found on first use: a trace does not need them. */
    private IptablesFrontends frontends;

    private IptablesServiceRuleset(String description, IptablesRuleset ruleset, LocalAddresses local) {
        this.description = Objects.requireNonNull(description, "description");
        this.evaluator = new IptablesEvaluator(ruleset, local);
    }

    private synchronized IptablesFrontends found() {
        if (frontends == null) {
            frontends = IptablesFrontends.of(evaluator.ruleset(), evaluator.localAddresses());
        }
        return frontends;
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

    public IptablesRuleset ruleset() {
        return evaluator.ruleset();
    }

    @Override
    public Trace trace(Packet packet, Detail detail) {
        return evaluator.trace(packet, detail);
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public List<Frontend> frontends() {
        return found().frontends();
    }

    @Override
    public Set<String> sourceCidrs(Frontend frontend) {
        return found().sourceCidrs(frontend);
    }

    @Override
    public LocalAddresses localAddresses() {
        return evaluator.localAddresses();
    }

    @Override
    public List<String> notes() {
        return evaluator.ruleset().notes();
    }
}
