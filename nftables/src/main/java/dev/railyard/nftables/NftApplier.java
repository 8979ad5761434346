package dev.railyard.nftables;

/**
 * Applies transactions to the kernel, each as one nf_tables batch: whole or not at all. Implemented by the
 * {@code nft} tool ({@link NftCommand}) and by a direct netlink socket.
 */
public interface NftApplier {
    /**
     * @return the bytes handed over for it: the netlink batch, or the script written to {@code nft} (0 for an
     *         empty transaction)
     * @throws NftException naming the refused operation when the kernel refused the batch (nothing applied), or
     *                      why the batch could not be sent
     */
    int apply(Transaction tx) throws NftException, InterruptedException;

    /**
     * Applies {@code transactions} in order, each as {@link #apply} does, stopping at the first that fails;
     * {@code committed} gets, after each one the kernel took, the bytes {@link #apply} would return for it. An
     * applier may prepare the next transaction while the kernel works on the one before.
     */
    default void applyInOrder(java.util.List<Transaction> transactions, java.util.function.IntConsumer committed)
            throws NftException, InterruptedException {
        for (Transaction tx : transactions) {
            committed.accept(apply(tx));
        }
    }

    /** The names of a table's chains, sets and maps; {@code exists} false when there is no such table. */
    TableObjects listObjects(Family family, String table) throws NftException, InterruptedException;

    /**
     * The elements of a set or map, keys and values as this model writes them (a verdict value as
     * {@code goto CHAIN}); empty when there is no such container.
     */
    java.util.List<Element> listElements(Family family, String table, String container)
            throws NftException, InterruptedException;

    /** Deletes the table if it exists; true if it did. */
    boolean deleteTableIfExists(Family family, String table) throws NftException, InterruptedException;

    /** What a table holds, by name. */
    record TableObjects(boolean exists, java.util.List<String> chains, java.util.List<String> sets,
                        java.util.List<String> maps) {
        public TableObjects {
            chains = java.util.List.copyOf(chains);
            sets = java.util.List.copyOf(sets);
            maps = java.util.List.copyOf(maps);
        }

        /** No such table. */
        public static TableObjects none() {
            return new TableObjects(false, java.util.List.of(), java.util.List.of(), java.util.List.of());
        }
    }
}
