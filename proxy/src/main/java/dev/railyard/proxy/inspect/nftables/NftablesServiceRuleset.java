package dev.railyard.proxy.inspect.nftables;

import dev.railyard.proxy.inspect.EvaluatedServiceRuleset;
import dev.railyard.proxy.inspect.LocalAddresses;
import dev.railyard.proxy.inspect.RulesetInputException;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.render.nftables.Layout;
import dev.railyard.proxy.render.nftables.NftablesRenderer;

/**
 * An nftables ruleset as one node has it, with the node's local addresses: from {@code nft list ruleset} output,
 * from an {@code add ...} script (what {@code railyard render --proxy-mode nftables} writes, or a knftables-style
 * dump), or from Railyard's own render of a cluster in either layout.
 */
public final class NftablesServiceRuleset extends EvaluatedServiceRuleset<NftablesRuleset> {

    private NftablesServiceRuleset(String description, NftablesRuleset ruleset, LocalAddresses local) {
        super(description, ruleset, ruleset.notes(), local, NftablesEvaluator::new, NftablesFrontends::of);
    }

    /**
     * Rules read from {@code nft list ruleset} (or {@code nft list table}) output, or from a script of
     * {@code add ...} commands; which one is told by the first command.
     */
    public static NftablesServiceRuleset fromText(String description, String source, String text,
                                                  LocalAddresses local) throws RulesetInputException {
        NftablesRuleset ruleset = isListing(text) ? NftListingParser.parse(source, text)
                : NftScriptReader.read(source, text);
        if (ruleset.tables().isEmpty()) {
            throw new RulesetInputException(source, 0, "holds no nftables table");
        }
        return new NftablesServiceRuleset(description, ruleset, local);
    }

    /** What {@code railyard render --proxy-mode nftables} writes for {@code state} in {@code layout}. */
    public static NftablesServiceRuleset fromRender(String description, RenderConfig config, Layout layout,
                                                    ProxyState state) {
        NftablesRuleset ruleset = NftScriptReader.read("railyard render",
                NftablesRenderer.script(config, layout, state));
        return new NftablesServiceRuleset(description, ruleset, LocalAddresses.of(config.nodeIps()));
    }

    /** The same rules with other local addresses (e.g. every address a live node has). */
    public NftablesServiceRuleset withLocalAddresses(String newDescription, LocalAddresses local) {
        return new NftablesServiceRuleset(newDescription, ruleset(), local);
    }

    /** Whether {@code text} is nft's block syntax ("table ip x {") rather than one-line commands. */
    static boolean isListing(String text) {
        for (String line : text.split("\n")) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#") || l.equals("flush ruleset")) {
                continue;
            }
            return l.startsWith("table ");
        }
        return false;
    }
}
