package dev.railyard.netlink;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * A named set or map: key type (concatenations allowed), data type for maps ({@link DataType#VERDICT} for a
 * verdict map), flags, default timeout and comment; or {@code typeof} expressions instead of types, as nft
 * needs for keys such as {@code numgen random mod 1}. Build with {@link #set(String)} / {@link #map(String)}.
 */
public record SetSpec(String name, DataType keyType, DataType dataType, Set<Flag> flags, Duration timeout,
                      String comment, TypeOf keyTypeof, TypeOf dataTypeof, int size) {

    /** Set flags as nft spells them. Map and anonymous are implied by the kind of set. */
    public enum Flag {
        CONSTANT(NfConst.NFT_SET_CONSTANT),
        INTERVAL(NfConst.NFT_SET_INTERVAL),
        TIMEOUT(NfConst.NFT_SET_TIMEOUT),
        /** nft's {@code dynamic} (NFT_SET_EVAL): the packet path may add elements ({@code update @set}). */
        DYNAMIC(NfConst.NFT_SET_EVAL);

        final int bit;

        Flag(int bit) {
            this.bit = bit;
        }
    }

    public SetSpec {
        Names.check("set", name, "set " + name);
        Objects.requireNonNull(keyType, "set " + name + ": key type");
        flags = flags.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(flags));
        if (keyType == DataType.VERDICT) {
            throw new IllegalArgumentException("set " + name + ": verdict is not a key type");
        }
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new IllegalArgumentException("set " + name + ": timeout must be positive, got " + timeout);
        }
        Names.checkComment(comment, "set " + name);
        if (size < 0) {
            throw new IllegalArgumentException("set " + name + ": negative size " + size);
        }
    }

    public static Builder set(String name) {
        return new Builder(name, false);
    }

    public static Builder map(String name) {
        return new Builder(name, true);
    }

    public boolean isMap() {
        return dataType != null;
    }

    int kernelFlags() {
        int bits = isMap() ? NfConst.NFT_SET_MAP : 0;
        for (Flag flag : flags) {
            bits |= flag.bit;
        }
        if (timeout != null) {
            bits |= NfConst.NFT_SET_TIMEOUT;
        }
        if (keyType.isConcat() && flags.contains(Flag.INTERVAL)) {
            bits |= NfConst.NFT_SET_CONCAT;
        }
        return bits;
    }

    public static final class Builder {
        private final String name;
        private final boolean map;
        private DataType keyType;
        private DataType dataType;
        private final EnumSet<Flag> flags = EnumSet.noneOf(Flag.class);
        private Duration timeout;
        private String comment;
        private TypeOf keyTypeof;
        private TypeOf dataTypeof;
        private int size;

        private Builder(String name, boolean map) {
            this.name = name;
            this.map = map;
        }

        /** {@code type a . b . c}. */
        public Builder key(DataType... fields) {
            this.keyType = DataType.concat(fields);
            return this;
        }

        /** Map data: {@code : a . b}, or {@link DataType#VERDICT}. */
        public Builder data(DataType... fields) {
            this.dataType = fields.length == 1 ? fields[0] : DataType.concat(fields);
            return this;
        }

        /** {@code typeof EXPR} for the key; also sets the key type. */
        public Builder keyTypeof(TypeOf expression) {
            this.keyTypeof = expression;
            this.keyType = expression.dataType();
            return this;
        }

        /** {@code typeof ... : EXPR} for the data; also sets the data type. */
        public Builder dataTypeof(TypeOf expression) {
            this.dataTypeof = expression;
            this.dataType = expression.dataType();
            return this;
        }

        public Builder flags(Flag... more) {
            flags.addAll(java.util.List.of(more));
            return this;
        }

        /** Default element timeout ({@code timeout 10800s}); implies the timeout flag. */
        public Builder timeout(Duration value) {
            this.timeout = value;
            flags.add(Flag.TIMEOUT);
            return this;
        }

        /** The most elements the set may hold ({@code size N}); 0 for the kernel's default, no limit. */
        public Builder size(int elements) {
            this.size = elements;
            return this;
        }

        public Builder comment(String text) {
            this.comment = text;
            return this;
        }

        public SetSpec build() {
            if (map && dataType == null) {
                throw new IllegalArgumentException("map " + name + ": no data type");
            }
            if (!map && dataType != null) {
                throw new IllegalArgumentException("set " + name + ": a set has no data type (use SetSpec.map)");
            }
            return new SetSpec(name, keyType, dataType, flags, timeout, comment, keyTypeof, dataTypeof, size);
        }
    }
}
