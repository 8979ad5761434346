package dev.railyard.nftables.netlink;

import dev.railyard.netlink.ChainType;
import dev.railyard.netlink.CommitResult;
import dev.railyard.netlink.Errno;
import dev.railyard.netlink.Hook;
import dev.railyard.netlink.NetlinkException;
import dev.railyard.netlink.NfTables;
import dev.railyard.netlink.NfTablesBatch;
import dev.railyard.netlink.OperationError;
import dev.railyard.netlink.SetElement;
import dev.railyard.netlink.SetSpec;
import dev.railyard.nftables.BaseChain;
import dev.railyard.nftables.Chain;
import dev.railyard.nftables.Element;
import dev.railyard.nftables.Family;
import dev.railyard.nftables.NftApplier;
import dev.railyard.nftables.NftException;
import dev.railyard.nftables.NftException.Reason;
import dev.railyard.nftables.NftMap;
import dev.railyard.nftables.NftObject;
import dev.railyard.nftables.NftSet;
import dev.railyard.nftables.Rule;
import dev.railyard.nftables.Table;
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
 * {@link NfTablesBatch}, one batch call per operation in order (rule bodies compiled by {@link RuleCompiler}, set
 * types and elements by {@link SetTypes}), committed as one kernel transaction, all or nothing. A refusal becomes an
 * {@link NftException} naming the transaction's operation (index and script line) and the kernel's errno.
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
    public void apply(Transaction tx) throws NftException {
        run(tx, true);
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

    private void run(Transaction tx, boolean commit) throws NftException {
        if (tx.isEmpty()) {
            return;
        }
        lock.lock();
        try {
            long start = System.nanoTime();
            String tableKey = key(tx.family(), tx.table());
            Map<String, ContainerType> known = containers.get(tableKey);
            if (known == null || lacksContainers(tx, known)) {
                known = loadContainers(tx.family(), tx.table());
                containers.put(tableKey, known);
            }
            Compilation compilation = new Compilation(tx, known);
            compilation.run();
            long compiled = System.nanoTime();
            CommitResult result;
            try {
                if (compilation.unresolved >= 0) {
                    // The kernel would refuse this operation; whether it refuses an earlier one first, a dry run
                    // of those says.
                    result = kernel.check(compilation.batch);
                } else {
                    result = commit ? kernel.commit(compilation.batch) : kernel.check(compilation.batch);
                }
            } catch (NetlinkException e) {
                containers.remove(tableKey);
                throw new NftException("netlink: the transaction on table " + tx.family() + " "
                        + tx.table() + " could not be sent or its outcome read (" + e.getMessage() + ")", e);
            }
            NfTables.CommitTimings phases = kernel.lastCommitTimings();
            lastTimings = new ApplyTimings(tx.size(), compilation.batch.messageCount(), result.bytesSent(),
                    compiled - start, phases.prepareNanos(), phases.sendNanos(), phases.ackNanos());
            if (!result.committed()) {
                containers.remove(tableKey);
                throw refusal(tx, compilation, result);
            }
            if (compilation.unresolved >= 0) {
                Transaction.Operation op = tx.operations().get(compilation.unresolved);
                throw new NftException(compilation.unresolvedReason, "netlink: " + compilation.unresolvedMessage,
                        compilation.unresolved, tx.line(op));
            }
            if (commit && compilation.changedContainers != null) {
                containers.put(tableKey, compilation.changedContainers);
            }
        } finally {
            lock.unlock();
        }
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

    private RuleCompiler compiler(Family family) {
        return compilers.computeIfAbsent(family, RuleCompiler::new);
    }

    /** One transaction turned into a batch, one batch call per operation. */
    private final class Compilation {
        final Transaction tx;
        final dev.railyard.netlink.Family family;
        final String table;
        final NfTablesBatch batch = new NfTablesBatch();
        /** The transaction operation of each batch call. */
        final int[] operationOfCall;
        /** The table's sets and maps as they are before the operation being compiled. */
        Map<String, ContainerType> containersNow;
        /** Not null once an operation changed them: what the table holds if the batch commits. */
        Map<String, ContainerType> changedContainers;
        /** The first operation that cannot be encoded because the kernel is sure to refuse it, or -1. */
        int unresolved = -1;
        Reason unresolvedReason;
        String unresolvedMessage;

        Compilation(Transaction tx, Map<String, ContainerType> known) {
            this.tx = tx;
            this.family = kernelFamily(tx.family());
            this.table = tx.table();
            this.operationOfCall = new int[tx.size()];
            this.containersNow = known;
        }

        void run() {
            List<Transaction.Operation> operations = tx.operations();
            for (int i = 0; i < operations.size(); i++) {
                Transaction.Operation op = operations.get(i);
                int calls = batch.size();
                try {
                    if (!add(op)) {
                        unresolved = i;
                        return;
                    }
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("operation " + (i + 1) + " (" + tx.line(op) + "): "
                            + e.getMessage(), e);
                }
                if (batch.size() != calls + 1) {
                    throw new IllegalStateException("operation " + i + " made " + (batch.size() - calls)
                            + " batch calls");
                }
                operationOfCall[calls] = i;
            }
        }

        /** Adds the operation as one batch call; false when it cannot be (see {@link #unresolved}). */
        private boolean add(Transaction.Operation op) {
            Verb verb = op.verb();
            NftObject object = op.object();
            if (object instanceof Rule rule) {
                dev.railyard.netlink.Rule compiled = compiler(tx.family()).compile(rule);
                if (verb == Verb.INSERT) {
                    batch.insertRule(family, table, rule.chain(), compiled);
                } else {
                    batch.addRule(family, table, rule.chain(), compiled);
                }
            } else if (object instanceof Element element) {
                return element(verb, element);
            } else if (object instanceof Chain chain) {
                chain(verb, chain);
            } else if (object instanceof NftSet set) {
                container(verb, set.name(), () -> SetTypes.spec(set));
            } else if (object instanceof NftMap map) {
                container(verb, map.name(), () -> SetTypes.spec(map));
            } else if (object instanceof Table definition) {
                table(verb, definition);
            } else {
                throw new IllegalArgumentException("cannot apply " + object.kind());
            }
            return true;
        }

        private boolean element(Verb verb, Element element) {
            ContainerType type = containersNow.get(element.container());
            if (type == null) {
                return unresolved(Reason.NOT_FOUND, "no set or map " + element.container() + " in table "
                        + tx.family() + " " + table);
            }
            if (verb == Verb.DELETE) {
                batch.deleteElements(family, table, element.container(),
                        List.of(SetTypes.element(type, element, true)));
                return true;
            }
            if (!type.map() && !element.value().isEmpty()) {
                return unresolved(Reason.INVALID, element.container() + " is a set: an element cannot have a value");
            }
            List<SetElement> elements = List.of(SetTypes.element(type, element, false));
            if (verb == Verb.CREATE) {
                batch.createElements(family, table, element.container(), elements);
            } else {
                batch.addElements(family, table, element.container(), elements);
            }
            return true;
        }

        private boolean unresolved(Reason reason, String message) {
            unresolvedReason = reason;
            unresolvedMessage = message;
            return false;
        }

        private void chain(Verb verb, Chain chain) {
            switch (verb) {
                case ADD, CREATE -> {
                    boolean create = verb == Verb.CREATE;
                    BaseChain base = chain.base();
                    if (base == null) {
                        if (create) {
                            batch.createChain(family, table, chain.name(), chain.comment());
                        } else {
                            batch.addChain(family, table, chain.name(), chain.comment());
                        }
                    } else if (create) {
                        batch.createBaseChain(family, table, chain.name(), chainType(base), hook(base),
                                base.priority(), chain.comment());
                    } else {
                        batch.addBaseChain(family, table, chain.name(), chainType(base), hook(base),
                                base.priority(), chain.comment());
                    }
                }
                case FLUSH -> batch.flushChain(family, table, chain.name());
                case DELETE -> batch.deleteChain(family, table, chain.name());
                default -> throw new IllegalArgumentException("cannot " + verb + " a chain");
            }
        }

        private void container(Verb verb, String name, java.util.function.Supplier<SetSpec> spec) {
            switch (verb) {
                case ADD, CREATE -> {
                    SetSpec declared = spec.get();
                    if (verb == Verb.CREATE) {
                        batch.createSet(family, table, declared);
                    } else {
                        batch.addSet(family, table, declared);
                    }
                    // An existing one stays as it is (or, declared otherwise, the kernel refuses the batch).
                    if (!containersNow.containsKey(name)) {
                        changeContainers().put(name, ContainerType.of(declared));
                    }
                }
                case FLUSH -> batch.flushSet(family, table, name);
                case DELETE -> {
                    batch.deleteSet(family, table, name);
                    changeContainers().remove(name);
                }
                default -> throw new IllegalArgumentException("cannot " + verb + " a set or map");
            }
        }

        private void table(Verb verb, Table definition) {
            switch (verb) {
                case ADD -> batch.addTable(family, table, definition.comment());
                case CREATE -> batch.createTable(family, table, definition.comment());
                case FLUSH -> batch.flushTable(family, table);
                case DELETE -> {
                    batch.deleteTable(family, table);
                    changeContainers().clear();
                }
                default -> throw new IllegalArgumentException("cannot " + verb + " a table");
            }
        }

        /** The containers, copied before the first change so that a refused batch leaves the cache as it was. */
        private Map<String, ContainerType> changeContainers() {
            if (changedContainers == null) {
                changedContainers = new HashMap<>(containersNow);
                containersNow = changedContainers;
            }
            return changedContainers;
        }
    }

    private static NftException refusal(Transaction tx, Compilation compilation, CommitResult result) {
        OperationError first = null;
        for (OperationError error : result.errors()) {
            if (error.index() >= 0 && (first == null || first.index() < 0 || error.index() < first.index())) {
                first = error;
            } else if (first == null) {
                first = error;
            }
        }
        if (first == null) {
            return new NftException(Reason.OTHER, "netlink: the transaction was refused without a reason");
        }
        String more = result.errors().size() > 1 ? " (and " + (result.errors().size() - 1) + " more refusals)" : "";
        if (first.index() < 0) {
            return new NftException(reasonOf(first.errno()), "netlink: the transaction was refused as a whole: "
                    + describe(first) + more);
        }
        int operation = compilation.operationOfCall[first.index()];
        return new NftException(reasonOf(first.errno()), "netlink: " + describe(first) + more, operation,
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

    private static ChainType chainType(BaseChain base) {
        return switch (base.type()) {
            case "filter" -> ChainType.FILTER;
            case "nat" -> ChainType.NAT;
            case "route" -> ChainType.ROUTE;
            default -> throw new IllegalArgumentException("base chain type " + base.type() + " is not supported");
        };
    }

    private static Hook hook(BaseChain base) {
        return switch (base.hook()) {
            case "prerouting" -> Hook.PREROUTING;
            case "input" -> Hook.INPUT;
            case "forward" -> Hook.FORWARD;
            case "output" -> Hook.OUTPUT;
            case "postrouting" -> Hook.POSTROUTING;
            default -> throw new IllegalArgumentException("hook " + base.hook() + " is not supported (ip and ip6 "
                    + "hooks only)");
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
