package dev.railyard.netlink;

/**
 * nf_tables registers: 16 32-bit slots (NFT_REG32_00..15), addressed as the four 128-bit registers NFT_REG_1..4
 * when a value starts on a 16-byte boundary. nft fills concatenations slot by slot, every field taking whole
 * 4-byte slots, and names the register the legacy 128-bit way when it can; this class does the same so that
 * rules encode byte-for-byte like nft's.
 */
public final class Registers {

    public static final int VERDICT = NfConst.NFT_REG_VERDICT;
    private static final int SLOTS = 16;

    private Registers() {
    }

    /** The register number for the value starting at 32-bit slot {@code slot} (0-based). */
    public static int forSlot(int slot) {
        if (slot < 0 || slot >= SLOTS) {
            throw new IllegalArgumentException("register slot " + slot + " out of range 0.." + (SLOTS - 1));
        }
        return slot % 4 == 0 ? NfConst.NFT_REG_1 + slot / 4 : NfConst.NFT_REG32_00 + slot;
    }

    /** How many bytes a value of {@code length} bytes occupies in registers (whole 4-byte slots). */
    public static int slotBytes(int length) {
        return (length + 3) & ~3;
    }

    static int slots(int length) {
        return slotBytes(length) / 4;
    }
}
