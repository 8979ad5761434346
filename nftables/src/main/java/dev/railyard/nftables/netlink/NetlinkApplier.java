package dev.railyard.nftables.netlink;

import dev.railyard.netlink.CommitResult;
import dev.railyard.netlink.Errno;
import dev.railyard.netlink.NetlinkException;
import dev.railyard.netlink.NfTables;
import dev.railyard.netlink.NfTablesBatch;
import dev.railyard.netlink.OperationError;
import dev.railyard.netlink.SetElement;
import dev.railyard.netlink.SetSpec;
import dev.railyard.nftables.Element;
import dev.railyard.nftables.Family;
import dev.railyard.nftables.NftApplier;
import dev.railyard.nftables.NftException;
import dev.railyard.nftables.NftException.Reason;
import dev.railyard.nftables.NftMap;
import dev.railyard.nftables.NftObject;
import dev.railyard.nftables.NftSet;
import dev.railyard.nftables.Transaction;
import dev.railyard.nftables.Verb;
import dev.railyard.nftables.netlink.SetTypes.ContainerType;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Applies transactions over an nf_tables netlink socket, without the {@code nft} tool: each transaction becomes one
 * {@link NfTablesBatch} ({@link TransactionCompiler}: one batch call per operation in order, consecutive elements of
 * one set in one call; rule bodies compiled by {@link RuleCompiler}, set types and elements by {@link SetTypes}),
 * committed as one kernel transaction, all or nothing. A refusal becomes an {@link NftException} naming the
 * transaction's operation (index and script line) and the kernel's errno.
 *
 * <p>Elements are encoded by the types of their set or map. Those come from the transaction's own {@code add
 * set|map} operations, else from what this applier knows of the table: listed from the kernel the first time the
 * table is used, kept up to date by the transactions committed through it, and listed again after a refusal, a
 * socket failure, a table deletion or an element for a set it does not know.
 *
 * <p>One socket for one network namespace ({@link #open()}, {@link #open(String)}). Thread-safe: every call holds
 * one lock, so two sync threads (one per IP family, say) may share an applier; their transactions then go to the
 * kernel one after the other. Close it when done.
 */
public final class NetlinkApplier implements NftApplier, AutoCloseable {
    private final NfTables kernel;
    private final ReentrantLock lock = new ReentrantLock();
    /** Per table ("family name"): the types of its sets and maps, as the kernel holds them. */
    private final Map<String, Map<String, ContainerType>> containers = new HashMap<>();
    private final Map<Family, RuleCompiler> compilers = new EnumMap<>(Family.class);
    private ApplyTimings lastTimings;

    private NetlinkApplier(NfTables kernel) {
        this.kernel = kernel;
        // Only refusals answer: a full sync of a large cluster is some hundred thousand messages, whose acks
        // would cost a receive call and kernel memory each.
        kernel.ackEveryMessage(false);
    }

    /** nf_tables of this process's network namespace. */
    public static NetlinkApplier open() {
        return new NetlinkApplier(NfTables.open());
    }

    /** nf_tables of the named network namespace ({@code /run/netns/NAME}). */
    public static NetlinkApplier open(String networkNamespace) {
        return new NetlinkApplier(NfTables.open(networkNamespace));
    }

    /**
     * How long the phases of the last {@link #apply} or {@link #check} took: compiling the transaction into a
     * batch, then {@link NfTables.CommitTimings}'s phases; null before the first.
     */
    public record ApplyTimings(int operations, int messages, int bytes, long compileNanos, long prepareNanos,
                               long sendNanos, long ackNanos) {
        public long totalNanos() {
            return compileNanos + prepareNanos + sendNanos + ackNanos;
        }
    }

    public ApplyTimings lastTimings() {
        lock.lock();
        try {
            return lastTimings;
        } finally {
            lock.unlock();
        }
    }

    /**
     * @throws NftException             the kernel refused the transaction (nothing applied), naming the first refused
     *                                  operation; or the socket failed (reason OTHER; outcome unknown)
     * @throws IllegalArgumentException a rule, set type or element is not in the grammar this applier compiles;
     *                                  nothing was sent
     */
    @Override
    public int apply(Transaction tx) throws NftException {
        return run(tx, true);
    }

    /**
     * A dry run, as {@code nft -c}: the kernel checks the whole transaction and applies nothing. Throws as
     * {@link #apply} would.
     */
    public void check(Transaction tx) throws NftException {
        run(tx, false);
    }

    @Override
    public TableObjects listObjects(Family family, String table) throws NftException {
        dev.railyard.netlink.Family kernelFamily = kernelFamily(family);
        lock.lock();
        try {
            if (!kernel.listTables(kernelFamily).contains(table)) {
                containers.put(key(family, table), new HashMap<>());
                return new TableObjects(false, List.of(), List.of(), List.of());
            }
            List<String> chains = kernel.listChains(kernelFamily, table);
            List<SetSpec> specs = kernel.describeSets(kernelFamily, table);
            List<String> sets = new ArrayList<>();
            List<String> maps = new ArrayList<>();
            for (SetSpec spec : specs) {
                (spec.isMap() ? maps : sets).add(spec.name());
            }
            containers.put(key(family, table), types(specs));
            return new TableObjects(true, chains, sets, maps);
        } catch (NetlinkException e) {
            containers.remove(key(family, table));
            if (Errno.name(e.errno()).equals("ENOENT")) {
                return new TableObjects(false, List.of(), List.of(), List.of()); // deleted while listing
            }
            throw new NftException("netlink: listing table " + family + " " + table + " failed: "
                    + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }

    /** The elements as the kernel lists them, read back through the container's types. */
    @Override
    public List<Element> listElements(Family family, String table, String container) throws NftException {
        lock.lock();
        try {
            String tableKey = key(family, table);
            Map<String, ContainerType> known = containers.get(tableKey);
            if (known == null || !known.containsKey(container)) {
                known = loadContainers(family, table);
                containers.put(tableKey, known);
            }
            ContainerType type = known.get(container);
            if (type == null) {
                return List.of();
            }
            List<Element> elements = new ArrayList<>();
            for (SetElement element : kernel.listElements(kernelFamily(family), table, container)) {
                elements.add(SetTypes.decode(type, element));
            }
            return elements;
        } catch (NetlinkException e) {
            if (Errno.name(e.errno()).equals("ENOENT")) {
                return List.of();
            }
            throw new NftException("netlink: listing the elements of " + container + " in table " + family + " "
                    + table + " failed: " + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean deleteTableIfExists(Family family, String table) throws NftException {
        lock.lock();
        try {
            containers.remove(key(family, table));
            CommitResult result = kernel.commit(new NfTablesBatch().deleteTable(kernelFamily(family), table));
            if (result.committed()) {
                return true;
            }
            OperationError error = result.errors().get(0);
            if (error.errnoName().equals("ENOENT")) {
                return false;
            }
            throw new NftException(reasonOf(error.errno()), "netlink: delete table " + family + " " + table
                    + " refused: " + describe(error));
        } catch (NetlinkException e) {
            throw new NftException("netlink: delete table " + family + " " + table + " failed: "
                    + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            kernel.close();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "netlink " + kernel.socket();
    }

    /**
     * Compiles transaction i+1 on another thread while the kernel commits transaction i: in a full sync of 10,000
     * services, compiling (~1 s, the JIT still cold) and committing (~1.5 s of kernel time) then overlap on two
     * cores. The next one is compiled against the set and map types the current one leaves; when it names a set
     * neither declares, it waits and is compiled after the commit, from the kernel's listing, as alone.
     */
    @Override
    public void applyInOrder(List<Transaction> transactions, java.util.function.IntConsumer committed)
            throws NftException {
        lock.lock();
        try {
            Compiling next = null;
            try {
                for (int i = 0; i < transactions.size(); i++) {
                    Transaction tx = transactions.get(i);
                    Compiled current = null;
                    int bytes = 0;
                    if (next != null) {
                        current = next.result();
                        next = null;
                    } else if (!tx.isEmpty()) {
                        current = compile(tx);
                    }
                    if (current != null) {
                        Transaction following = i + 1 < transactions.size() ? transactions.get(i + 1) : null;
                        if (following != null && !following.isEmpty()) {
                            Map<String, ContainerType> after = current.compilation.containersAfter() != null
                                    ? current.compilation.containersAfter() : current.known;
                            if (key(following.family(), following.table()).equals(current.tableKey)
                                    && !lacksContainers(following, after)) {
                                next = new Compiling(following, after);
                            }
                        }
                        bytes = commit(current, true);
                    }
                    committed.accept(bytes);
                }
            } finally {
                if (next != null) {
                    next.awaitQuietly();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** A transaction compiled, with the types it was compiled against. */
    private record Compiled(Transaction tx, String tableKey, Map<String, ContainerType> known,
                            TransactionCompiler.Compiled compilation, long compileNanos) {
    }

    /** A compilation running on a thread of its own. */
    private final class Compiling {
        private final java.util.concurrent.CompletableFuture<Compiled> future;

        Compiling(Transaction tx, Map<String, ContainerType> known) {
            String tableKey = key(tx.family(), tx.table());
            RuleCompiler rules = compiler(tx.family());
            future = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                long start = System.nanoTime();
                TransactionCompiler.Compiled compilation = TransactionCompiler.compile(tx, known, rules, true);
                return new Compiled(tx, tableKey, known, compilation, System.nanoTime() - start);
            }, COMPILER);
        }

        Compiled result() {
            try {
                return future.join();
            } catch (java.util.concurrent.CompletionException e) {
                if (e.getCause() instanceof RuntimeException runtime) {
                    throw runtime;
                }
                throw e;
            }
        }

        /** Lets a compilation no one will commit finish, so that the next compile does not run beside it. */
        void awaitQuietly() {
            try {
                future.join();
            } catch (RuntimeException e) {
                // reported by nobody: its transaction is not applied
            }
        }
    }

    /** One daemon thread for the compilations ahead of a commit, shared by every applier of the process. */
    private static final java.util.concurrent.Executor COMPILER = java.util.concurrent.Executors
            .newSingleThreadExecutor(task -> {
                Thread thread = new Thread(task, "netlink-compile");
                thread.setDaemon(true);
                return thread;
            });

    private int run(Transaction tx, boolean commit) throws NftException {
        if (tx.isEmpty()) {
            return 0;
        }
        lock.lock();
        try {
            return commit(compile(tx), commit);
        } finally {
            lock.unlock();
        }
    }

    /** Compiles {@code tx} against the types of the table's sets and maps, listing them first when needed. */
    private Compiled compile(Transaction tx) throws NftException {
        long start = System.nanoTime();
        String tableKey = key(tx.family(), tx.table());
        Map<String, ContainerType> known = containers.get(tableKey);
        if (known == null || lacksContainers(tx, known)) {
            known = loadContainers(tx.family(), tx.table());
            containers.put(tableKey, known);
        }
        TransactionCompiler.Compiled compilation = TransactionCompiler.compile(tx, known, compiler(tx.family()),
                true);
        return new Compiled(tx, tableKey, known, compilation, System.nanoTime() - start);
    }

    /** Sends a compiled transaction: committed, or with {@code commit} false only checked; the bytes sent. */
    private int commit(Compiled compiled, boolean commit) throws NftException {
        Transaction tx = compiled.tx;
        String tableKey = compiled.tableKey;
        Map<String, ContainerType> known = compiled.known;
        TransactionCompiler.Compiled compilation = compiled.compilation;
        CommitResult result;
        try {
            if (compilation.unresolved() >= 0) {
                // The kernel would refuse this operation; whether it refuses an earlier one first, a dry run
                // of those says.
                result = kernel.check(compilation.batch());
            } else {
                result = commit ? kernel.commit(compilation.batch()) : kernel.check(compilation.batch());
            }
        } catch (NetlinkException e) {
            containers.remove(tableKey);
            throw new NftException("netlink: the transaction on table " + tx.family() + " "
                    + tx.table() + " could not be sent or its outcome read (" + e.getMessage() + ")", e);
        }
        NfTables.CommitTimings phases = kernel.lastCommitTimings();
        lastTimings = new ApplyTimings(tx.size(), compilation.batch().messageCount(), result.bytesSent(),
                compiled.compileNanos, phases.prepareNanos(), phases.sendNanos(), phases.ackNanos());
        if (!result.committed()) {
            containers.remove(tableKey);
            throw refusal(tx, known, compilation, result);
        }
        if (compilation.unresolved() >= 0) {
            Transaction.Operation op = tx.operations().get(compilation.unresolved());
            throw new NftException(compilation.unresolvedReason(), "netlink: " + compilation.unresolvedMessage(),
                    compilation.unresolved(), tx.line(op));
        }
        if (commit && compilation.containersAfter() != null) {
            containers.put(tableKey, compilation.containersAfter());
        }
        return result.bytesSent();
    }

    /** Whether an element operation names a set or map neither known nor declared by the transaction. */
    private static boolean lacksContainers(Transaction tx, Map<String, ContainerType> known) {
        Set<String> declared = null;
        for (Transaction.Operation op : tx.operations()) {
            NftObject object = op.object();
            if (object instanceof NftSet set && (op.verb() == Verb.ADD || op.verb() == Verb.CREATE)) {
                declared = add(declared, set.name());
            } else if (object instanceof NftMap map && (op.verb() == Verb.ADD || op.verb() == Verb.CREATE)) {
                declared = add(declared, map.name());
            } else if (object instanceof Element element && !known.containsKey(element.container())
                    && (declared == null || !declared.contains(element.container()))) {
                return true;
            }
        }
        return false;
    }

    private static Set<String> add(Set<String> names, String name) {
        Set<String> result = names == null ? new java.util.HashSet<>() : names;
        result.add(name);
        return result;
    }

    private Map<String, ContainerType> loadContainers(Family family, String table) throws NftException {
        try {
            return types(kernel.describeSets(kernelFamily(family), table));
        } catch (NetlinkException e) {
            if (Errno.name(e.errno()).equals("ENOENT")) {
                return new HashMap<>();
            }
            throw new NftException("netlink: listing the sets of table " + family + " " + table
                    + " failed: " + e.getMessage(), e);
        }
    }

    private static Map<String, ContainerType> types(List<SetSpec> specs) {
        Map<String, ContainerType> types = new HashMap<>();
        for (SetSpec spec : specs) {
            types.put(spec.name(), ContainerType.of(spec));
        }
        return types;
    }

    /** The family's rule compiler; null for inet, whose rules are not compiled. */
    private RuleCompiler compiler(Family family) {
        return family == Family.INET ? null : compilers.computeIfAbsent(family, RuleCompiler::new);
    }

    /**
     * The refusal as an exception naming the first refused operation. When that is a batch call carrying several
     * element operations, a dry run of the transaction with one call per operation tells which of them it was.
     */
    private NftException refusal(Transaction tx, Map<String, ContainerType> known,
                                 TransactionCompiler.Compiled compilation, CommitResult result) {
        OperationError first = firstError(result);
        if (first != null && first.index() >= 0 && compilation.merged(first.index())) {
            try {
                TransactionCompiler.Compiled single = TransactionCompiler.compile(tx, known,
                        compiler(tx.family()), false);
                CommitResult exact = kernel.check(single.batch());
                OperationError precise = firstError(exact);
                if (!exact.committed() && precise != null && precise.index() >= 0) {
                    return refusal(tx, single, exact, precise);
                }
            } catch (NetlinkException e) {
                // Fall back to naming the first operation of the refused call.
            }
        }
        return refusal(tx, compilation, result, first);
    }

    private static OperationError firstError(CommitResult result) {
        OperationError first = null;
        for (OperationError error : result.errors()) {
            if (error.index() >= 0 && (first == null || first.index() < 0 || error.index() < first.index())) {
                first = error;
            } else if (first == null) {
                first = error;
            }
        }
        return first;
    }

    private static NftException refusal(Transaction tx, TransactionCompiler.Compiled compilation, CommitResult result,
                                        OperationError first) {
        if (first == null) {
            return new NftException(Reason.OTHER, "netlink: the transaction was refused without a reason");
        }
        String more = result.errors().size() > 1 ? " (and " + (result.errors().size() - 1) + " more refusals)" : "";
        if (first.index() < 0) {
            return new NftException(reasonOf(first.errno()), "netlink: the transaction was refused as a whole: "
                    + describe(first) + more);
        }
        int operation = compilation.firstOperationOfCall()[first.index()];
        String range = compilation.merged(first.index()) ? " (in the elements of operations " + (operation + 1)
                + ".." + (compilation.lastOperationOfCall()[first.index()] + 1) + ")" : "";
        return new NftException(reasonOf(first.errno()), "netlink: " + describe(first) + more + range, operation,
                tx.line(tx.operations().get(operation)));
    }

    private static String describe(OperationError error) {
        StringBuilder text = new StringBuilder(Errno.describe(error.errno()));
        if (error.kernelMessage() != null && !error.kernelMessage().isEmpty()) {
            text.append(": ").append(error.kernelMessage());
        }
        if (error.location() != null) {
            text.append(" at ").append(error.location());
        }
        return text.toString();
    }

    /** The kernel's errno in the model's terms. */
    static Reason reasonOf(int errno) {
        return switch (Errno.name(errno)) {
            case "ENOENT" -> Reason.NOT_FOUND;
            case "EEXIST" -> Reason.EXISTS;
            case "EBUSY" -> Reason.BUSY;
            case "EINVAL", "EOPNOTSUPP", "EMLINK", "ELOOP" -> Reason.INVALID;
            default -> Reason.OTHER;
        };
    }

    static dev.railyard.netlink.Family kernelFamily(Family family) {
        return switch (family) {
            case IP -> dev.railyard.netlink.Family.IP;
            case IP6 -> dev.railyard.netlink.Family.IP6;
            case INET -> dev.railyard.netlink.Family.INET;
        };
    }

    private static String key(Family family, String table) {
        return family.keyword() + " " + table;
    }
}
