package dev.railyard.nftables.netlink;

import dev.railyard.netlink.ChainType;
import dev.railyard.netlink.Hook;
import dev.railyard.netlink.NfTablesBatch;
import dev.railyard.netlink.SetElement;
import dev.railyard.netlink.SetSpec;
import dev.railyard.nftables.BaseChain;
import dev.railyard.nftables.Chain;
import dev.railyard.nftables.Element;
import dev.railyard.nftables.NftException.Reason;
import dev.railyard.nftables.NftMap;
import dev.railyard.nftables.NftObject;
import dev.railyard.nftables.NftSet;
import dev.railyard.nftables.Rule;
import dev.railyard.nftables.Table;
import dev.railyard.nftables.Transaction;
import dev.railyard.nftables.Verb;
import dev.railyard.nftables.netlink.SetTypes.ContainerType;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One transaction turned into one {@link NfTablesBatch}, one batch call per operation in order, with the
 * transaction operation of every batch call kept for errors. Rule bodies go through a {@link RuleCompiler}; set
 * types and elements through {@link SetTypes}, elements by the types of their container as the table holds them
 * before the operation (what it held before the transaction, changed by the transaction's own operations so far).
 * Nothing is sent: {@link NetlinkApplier} does that. Used by one thread.
 */
public final class TransactionCompiler {
    /**
     * The result: the batch; the operation of each batch call; the table's sets and maps after the transaction
     * when it changed them (else null); and, when an operation cannot be encoded because the kernel is sure to
     * refuse it (an element of a set or map the table does not hold), its index, reason and why, with the batch
     * holding only the operations before it (else -1).
     */
    public record Compiled(NfTablesBatch batch, int[] firstOperationOfCall, int[] lastOperationOfCall,
                           Map<String, ContainerType> containersAfter, int unresolved, Reason unresolvedReason,
                           String unresolvedMessage) {
        /** Whether batch call {@code call} carries several (element) operations. */
        public boolean merged(int call) {
            return lastOperationOfCall[call] != firstOperationOfCall[call];
        }
    }

    /**
     * @param containers    the table's sets and maps by name before the transaction; not changed
     * @param rules         a compiler for the transaction's family; null for one without rules (inet)
     * @param mergeElements whether consecutive element operations of one verb on one set or map become one batch
     *                      call (one message for the kernel to look the set up by name, instead of one each: the
     *                      kernel finds a set by walking the table's list of sets); a refusal then names the call's
     *                      first operation only
     * @throws IllegalArgumentException naming the operation when a rule, type or element is not in the grammar
     */
    public static Compiled compile(Transaction tx, Map<String, ContainerType> containers, RuleCompiler rules,
                                   boolean mergeElements) {
        Objects.requireNonNull(tx, "tx");
        if (rules != null && rules.family() != tx.family()) {
            throw new IllegalArgumentException("a " + rules.family() + " rule compiler for a " + tx.family()
                    + " transaction");
        }
        TransactionCompiler compiler = new TransactionCompiler(tx, containers, rules, mergeElements);
        compiler.run();
        int calls = compiler.batch.size();
        return new Compiled(compiler.batch, java.util.Arrays.copyOf(compiler.firstOperationOfCall, calls),
                java.util.Arrays.copyOf(compiler.lastOperationOfCall, calls), compiler.changedContainers,
                compiler.unresolved, compiler.unresolvedReason, compiler.unresolvedMessage);
    }

    private final RuleCompiler rules;
    private final Transaction tx;
    private final dev.railyard.netlink.Family family;
    private final String table;
    private final NfTablesBatch batch = new NfTablesBatch();
    private final boolean mergeElements;
    /** The transaction operations of each batch call: one, or a run of element operations. */
    private final int[] firstOperationOfCall;
    private final int[] lastOperationOfCall;
    /** The table's sets and maps as they are before the operation being compiled. */
    private Map<String, ContainerType> containersNow;
    /** Not null once an operation changed them: what the table holds if the batch commits. */
    private Map<String, ContainerType> changedContainers;
    /** The first operation that cannot be encoded because the kernel is sure to refuse it, or -1. */
    private int unresolved = -1;
    private Reason unresolvedReason;
    private String unresolvedMessage;

    private TransactionCompiler(Transaction tx, Map<String, ContainerType> known, RuleCompiler rules,
                                boolean mergeElements) {
        this.tx = tx;
        this.family = NetlinkApplier.kernelFamily(tx.family());
        this.table = tx.table();
        this.firstOperationOfCall = new int[tx.size()];
        this.lastOperationOfCall = new int[tx.size()];
        this.mergeElements = mergeElements;
        this.containersNow = known;
        this.rules = rules;
    }

    private void run() {
        List<Transaction.Operation> operations = tx.operations();
        int i = 0;
        while (i < operations.size()) {
            Transaction.Operation op = operations.get(i);
            int calls = batch.size();
            int last;
            if (op.object() instanceof Element) {
                last = elements(operations, i);
            } else {
                try {
                    add(op);
                } catch (IllegalArgumentException e) {
                    throw named(i, e);
                }
                last = i;
            }
            if (last < 0) {
                unresolved = i;
                return;
            }
            if (batch.size() != calls + 1) {
                throw new IllegalStateException("operation " + i + " made " + (batch.size() - calls)
                        + " batch calls");
            }
            firstOperationOfCall[calls] = i;
            lastOperationOfCall[calls] = last;
            i = last + 1;
        }
    }

    private IllegalArgumentException named(int index, IllegalArgumentException e) {
        return new IllegalArgumentException("operation " + (index + 1) + " (" + tx.line(tx.operations().get(index))
                + "): " + e.getMessage(), e);
    }

    /** Adds an operation on anything but an element as one batch call. */
    private void add(Transaction.Operation op) {
        Verb verb = op.verb();
        NftObject object = op.object();
        if (object instanceof Rule rule) {
            if (rules == null) {
                throw new IllegalArgumentException("rules of " + tx.family() + " tables are not supported");
            }
            dev.railyard.netlink.Rule compiled = rules.compile(rule);
            if (verb == Verb.INSERT) {
                batch.insertRule(family, table, rule.chain(), compiled);
            } else {
                batch.addRule(family, table, rule.chain(), compiled);
            }
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
    }

    /**
     * The element operation at {@code first} and, when merging, the element operations right after it with the same
     * verb on the same set or map, as one batch call. Returns the last operation taken, or -1 when the first cannot
     * be encoded because the kernel is sure to refuse it.
     */
    private int elements(List<Transaction.Operation> operations, int first) {
        Transaction.Operation op = operations.get(first);
        Element element = (Element) op.object();
        Verb verb = op.verb();
        ContainerType type = containersNow.get(element.container());
        if (type == null) {
            unresolved(Reason.NOT_FOUND, "no set or map " + element.container() + " in table " + tx.family() + " "
                    + table);
            return -1;
        }
        if (refusedValue(verb, type, element)) {
            unresolved(Reason.INVALID, element.container() + " is a set: an element cannot have a value");
            return -1;
        }
        List<SetElement> elements = new java.util.ArrayList<>(mergeElements ? 8 : 1);
        elements.add(element(first, verb, type, element));
        int last = first;
        while (mergeElements && last + 1 < operations.size()) {
            Transaction.Operation next = operations.get(last + 1);
            if (next.verb() != verb || !(next.object() instanceof Element more)
                    || !more.container().equals(element.container()) || refusedValue(verb, type, more)) {
                break;
            }
            elements.add(element(last + 1, verb, type, more));
            last++;
        }
        switch (verb) {
            case DELETE -> batch.deleteElements(family, table, element.container(), elements);
            case CREATE -> batch.createElements(family, table, element.container(), elements);
            case ADD -> batch.addElements(family, table, element.container(), elements);
            default -> throw named(first, new IllegalArgumentException("cannot " + verb + " an element"));
        }
        return last;
    }

    /** A value for a set's element, which the kernel refuses and which there are no types to encode by. */
    private static boolean refusedValue(Verb verb, ContainerType type, Element element) {
        return verb != Verb.DELETE && !type.map() && !element.value().isEmpty();
    }

    private SetElement element(int index, Verb verb, ContainerType type, Element element) {
        try {
            return SetTypes.element(type, element, verb == Verb.DELETE);
        } catch (IllegalArgumentException e) {
            throw named(index, e);
        }
    }

    private void unresolved(Reason reason, String message) {
        unresolvedReason = reason;
        unresolvedMessage = message;
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
}
