package dev.railyard.netlink;

import java.util.Arrays;
import java.util.Objects;

/**
 * One element of a set or map: its key (concatenations already joined, see {@link Values#concat}), optional
 * data or verdict, optional comment. Interval sets take start and end elements ({@link #intervalEnd}); use
 * {@link Intervals} to turn prefixes into them as nft does.
 */
public record SetElement(byte[] key, byte[] data, Verdict verdict, String comment, boolean intervalEnd) {

    public SetElement {
        Objects.requireNonNull(key, "key");
        if (key.length == 0 || key.length > 64) {
            throw new IllegalArgumentException("set element key must be 1..64 bytes, got " + key.length);
        }
        if (data != null && verdict != null) {
            throw new IllegalArgumentException("a set element maps to data or to a verdict, not both");
        }
        key = key.clone();
        data = data == null ? null : data.clone();
        Names.checkComment(comment, "set element");
    }

    /** An element with this key (for a concatenated key, the fields are joined with {@link Values#concat}). */
    public static SetElement of(byte[]... keyFields) {
        return new SetElement(Values.concat(keyFields), null, null, null, false);
    }

    public SetElement mapsTo(Verdict target) {
        return new SetElement(key, null, Objects.requireNonNull(target, "verdict"), comment, intervalEnd);
    }

    public SetElement mapsTo(byte[]... dataFields) {
        return new SetElement(key, Values.concat(dataFields), null, comment, intervalEnd);
    }

    public SetElement withComment(String text) {
        return new SetElement(key, data, verdict, text, intervalEnd);
    }

    static SetElement end(byte[] key) {
        return new SetElement(key, null, null, null, true);
    }

    @Override
    public byte[] key() {
        return key.clone();
    }

    @Override
    public byte[] data() {
        return data == null ? null : data.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SetElement e && Arrays.equals(e.key, key) && Arrays.equals(e.data, data)
                && Objects.equals(e.verdict, verdict) && Objects.equals(e.comment, comment) && e.intervalEnd == intervalEnd;
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(key), Arrays.hashCode(data), verdict, comment, intervalEnd);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(hex(key));
        if (intervalEnd) {
            sb.append(" (end)");
        }
        if (comment != null) {
            sb.append(" comment \"").append(comment).append('"');
        }
        if (verdict != null) {
            sb.append(" : ").append(verdict);
        } else if (data != null) {
            sb.append(" : ").append(hex(data));
        }
        return sb.toString();
    }

    static String hex(byte[] bytes) {
        StringBuilder sb = new StringBuilder("0x");
        for (byte b : bytes) {
            sb.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
        }
        return sb.toString();
    }

    /** An upper bound of {@link #encode}'s output, to split element lists at the 64 KiB attribute limit. */
    int encodedSizeBound() {
        int size = 4 + 8 + 4 + pad(key.length) + 8;
        if (verdict != null) {
            size += 4 + 4 + 8 + 4 + (verdict.chain() == null ? 0 : pad(verdict.chain().getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 1));
        } else if (data != null) {
            size += 4 + 4 + pad(data.length);
        }
        if (comment != null) {
            size += 4 + pad(2 + comment.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 1);
        }
        return size;
    }

    private static int pad(int length) {
        return (length + 3) & ~3;
    }

    void encode(MessageWriter w) {
        int elem = w.beginNested(NfConst.NFTA_LIST_ELEM);
        if (intervalEnd) {
            w.attrU32BigEndian(NfConst.NFTA_SET_ELEM_FLAGS, NfConst.NFT_SET_ELEM_INTERVAL_END);
        }
        int k = w.beginNested(NfConst.NFTA_SET_ELEM_KEY);
        w.attrBytes(NfConst.NFTA_DATA_VALUE, key);
        w.endNested(k);
        if (verdict != null || data != null) {
            int d = w.beginNested(NfConst.NFTA_SET_ELEM_DATA);
            if (verdict != null) {
                verdict.encode(w);
            } else {
                w.attrBytes(NfConst.NFTA_DATA_VALUE, data);
            }
            w.endNested(d);
        }
        if (comment != null) {
            w.attrBytes(NfConst.NFTA_SET_ELEM_USERDATA, Udata.comment(NfConst.UDATA_SET_ELEM_COMMENT, comment));
        }
        w.endNested(elem);
    }
}
