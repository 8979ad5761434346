package dev.railyard.netlink;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * Turns the byte offset an extended ack points at (NLMSGERR_ATTR_OFFS, relative to the refused message) into
 * words: which expression of a rule, or which attribute of the message.
 */
final class ErrorLocation {

    private static final int NFGENMSG_LENGTH = 4;

    private ErrorLocation() {
    }

    static String describe(ByteBuffer sent, int messageStart, int offset) {
        int messageLength = sent.getInt(messageStart);
        if (offset < 0 || offset >= messageLength) {
            return "byte " + offset;
        }
        int attrsStart = messageStart + MessageWriter.NLMSG_HDRLEN + NFGENMSG_LENGTH;
        int absolute = messageStart + offset;
        List<Attributes.Attr> attrs = Attributes.parse(sent, attrsStart, messageStart + messageLength, attrsStart);
        StringBuilder path = new StringBuilder();
        Attributes.Attr inside = containing(attrs, absolute);
        if (inside == null) {
            return "message header";
        }
        int messageType = sent.getShort(messageStart + 4) & 0xff;
        if (messageType == NfConst.NFT_MSG_NEWRULE && inside.type() == NfConst.NFTA_RULE_EXPRESSIONS) {
            List<Attributes.Attr> exprs = inside.nested();
            for (int i = 0; i < exprs.size(); i++) {
                Attributes.Attr expr = exprs.get(i);
                if (covers(expr, absolute)) {
                    Attributes.Attr name = Attributes.find(expr.nested(), NfConst.NFTA_EXPR_NAME);
                    return "expression #" + i + (name == null ? "" : " (" + name.string() + ")");
                }
            }
            return "rule expressions";
        }
        path.append("attribute ").append(inside.type());
        Attributes.Attr current = inside;
        for (int depth = 0; depth < 8; depth++) {
            Attributes.Attr next = containing(current.nested(), absolute);
            if (next == null || next == current) {
                break;
            }
            path.append(" > ").append(next.type());
            current = next;
        }
        return path.toString();
    }

    private static Attributes.Attr containing(List<Attributes.Attr> attrs, int absolute) {
        for (Attributes.Attr attr : attrs) {
            if (covers(attr, absolute)) {
                return attr;
            }
        }
        return null;
    }

    /** Attr offsets are absolute positions of the attribute header in the sent buffer. */
    private static boolean covers(Attributes.Attr attr, int absolute) {
        int start = attr.offset();
        int end = start + MessageWriter.NLA_HDRLEN + attr.payload().limit();
        return absolute >= start && absolute < end;
    }
}
