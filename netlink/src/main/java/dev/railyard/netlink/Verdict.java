package dev.railyard.netlink;

import java.util.Objects;

/**
 * A verdict: accept, drop, return, continue, or a jump/goto to a chain. Used by immediate statements (the
 * rule's verdict) and as data of verdict-map elements.
 */
public record Verdict(int code, String chain) {

    public static final Verdict ACCEPT = new Verdict(NfConst.NF_ACCEPT, null);
    public static final Verdict DROP = new Verdict(NfConst.NF_DROP, null);
    public static final Verdict RETURN = new Verdict(NfConst.NFT_RETURN, null);
    public static final Verdict CONTINUE = new Verdict(NfConst.NFT_CONTINUE, null);

    public Verdict {
        boolean needsChain = code == NfConst.NFT_JUMP || code == NfConst.NFT_GOTO;
        if (needsChain) {
            Names.check("chain", chain, "verdict target");
        } else if (chain != null) {
            throw new IllegalArgumentException("verdict " + code + " takes no chain, got " + chain);
        }
    }

    public static Verdict jump(String chain) {
        return new Verdict(NfConst.NFT_JUMP, Objects.requireNonNull(chain, "chain"));
    }

    public static Verdict goTo(String chain) {
        return new Verdict(NfConst.NFT_GOTO, Objects.requireNonNull(chain, "chain"));
    }

    void encode(MessageWriter w) {
        int verdict = w.beginNested(NfConst.NFTA_DATA_VERDICT);
        w.attrU32BigEndian(NfConst.NFTA_VERDICT_CODE, code);
        if (chain != null) {
            w.attrString(NfConst.NFTA_VERDICT_CHAIN, chain);
        }
        w.endNested(verdict);
    }

    @Override
    public String toString() {
        return switch (code) {
            case NfConst.NF_ACCEPT -> "accept";
            case NfConst.NF_DROP -> "drop";
            case NfConst.NFT_RETURN -> "return";
            case NfConst.NFT_CONTINUE -> "continue";
            case NfConst.NFT_JUMP -> "jump " + chain;
            case NfConst.NFT_GOTO -> "goto " + chain;
            default -> "verdict " + code;
        };
    }
}
