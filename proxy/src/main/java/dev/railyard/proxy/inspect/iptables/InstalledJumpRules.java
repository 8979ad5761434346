package dev.railyard.proxy.inspect.iptables;

import dev.railyard.proxy.apply.JumpRule;
import dev.railyard.proxy.apply.JumpRules;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Completes an iptables-restore input (what {@code railyard render} and kube-proxy's iptables-restore write) with
 * the rules that hook its chains into the built-in ones, which neither writes there: {@code railyard proxy}
 * installs them with {@link JumpRules} (kube-proxy with its EnsureRule). A node's iptables-save already has them.
 */
public final class InstalledJumpRules {
    private InstalledJumpRules() {
    }

    /**
     * For each table that declares none of its built-in chains, adds {@link JumpRules#ALL} for that table as
     * {@link JumpRules#ensure()} leaves them in empty built-in chains (each one inserted at the top, so the
     * last of a chain ends up first). Tables of a real dump are left alone.
     */
    public static IptablesRuleset addWhereMissing(IptablesRuleset ruleset) {
        IptablesRuleset result = ruleset;
        Set<String> tables = new LinkedHashSet<>();
        JumpRules.ALL.forEach(rule -> tables.add(rule.table()));
        for (String table : tables) {
            if (!ruleset.lacksBuiltInChains(table)) {
                continue;
            }
            List<IptablesRule> rules = new ArrayList<>();
            for (JumpRule jump : JumpRules.ALL) {
                if (jump.table().equals(table)) {
                    rules.add(parse(jump));
                }
            }
            result = result.withJumpRules(table, rules, "table " + table + " has no built-in chains (an "
                    + "iptables-restore input, as railyard render and kube-proxy write): added the " + rules.size()
                    + " jump rules railyard proxy installs");
        }
        return result;
    }

    private static IptablesRule parse(JumpRule jump) {
        String text = jump.toSaveFormat();
        List<String> words = SaveWords.split(text);
        return RuleParser.parse(jump.chain(), words.subList(2, words.size()), text, "jump rule added (JumpRules)")
                .resolve(Set.of(jump.target()));
    }
}
