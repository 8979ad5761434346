package dev.railyard.netlink;

import java.math.BigInteger;
import java.util.Arrays;

/** An address prefix (CIDR) such as {@code 10.0.0.0/8} or {@code fd00::/64}; host bits must be zero. */
public record Prefix(byte[] address, int length) {

    public Prefix {
        address = address.clone();
        if (address.length != 4 && address.length != 16) {
            throw new IllegalArgumentException("prefix address must be 4 or 16 bytes, got " + address.length);
        }
        if (length < 0 || length > address.length * 8) {
            throw new IllegalArgumentException("prefix length " + length + " out of range for a " + address.length * 8 + "-bit address");
        }
        byte[] mask = maskBytes(address.length, length);
        for (int i = 0; i < address.length; i++) {
            if ((address[i] & ~mask[i]) != 0) {
                throw new IllegalArgumentException("prefix " + Arrays.toString(address) + "/" + length + " has host bits set");
            }
        }
    }

    /** Parses {@code ADDRESS/LENGTH} (or a bare address, a full-length prefix). */
    public static Prefix parse(String cidr) {
        if (cidr == null) {
            throw new IllegalArgumentException("prefix is null");
        }
        int slash = cidr.indexOf('/');
        byte[] address = Values.parseAddress(slash < 0 ? cidr : cidr.substring(0, slash)).getAddress();
        int length = address.length * 8;
        if (slash >= 0) {
            String bits = cidr.substring(slash + 1);
            if (!bits.matches("\\d{1,3}")) {
                throw new IllegalArgumentException("bad prefix length in " + cidr);
            }
            length = Integer.parseInt(bits);
        }
        try {
            return new Prefix(address, length);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad prefix " + cidr + ": " + e.getMessage(), e);
        }
    }

    @Override
    public byte[] address() {
        return address.clone();
    }

    public byte[] mask() {
        return maskBytes(address.length, length);
    }

    /** The first address after the prefix, or null when the prefix reaches the top of the address space. */
    public byte[] endExclusive() {
        BigInteger start = new BigInteger(1, address);
        BigInteger end = start.add(BigInteger.ONE.shiftLeft(address.length * 8 - length));
        if (end.bitLength() > address.length * 8) {
            return null;
        }
        byte[] raw = end.toByteArray();
        byte[] out = new byte[address.length];
        int copy = Math.min(raw.length, out.length);
        System.arraycopy(raw, raw.length - copy, out, out.length - copy, copy);
        return out;
    }

    static byte[] maskBytes(int bytes, int length) {
        byte[] mask = new byte[bytes];
        for (int i = 0; i < bytes; i++) {
            int bits = Math.max(0, Math.min(8, length - i * 8));
            mask[i] = (byte) (0xff << (8 - bits));
        }
        return mask;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Prefix p && p.length == length && Arrays.equals(p.address, address);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(address) + length;
    }

    @Override
    public String toString() {
        try {
            return java.net.InetAddress.getByAddress(address).getHostAddress() + "/" + length;
        } catch (java.net.UnknownHostException e) {
            return Arrays.toString(address) + "/" + length;
        }
    }
}
