package dev.railyard.nftables;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * An ordered list of operations on one table, applied all or nothing (one nf_tables batch), as knftables'
 * Transaction. Written as an nft script, each operation is one line, so an error nft reports by line number
 * names the operation ({@link #operation(int)}). Not thread-safe; built by one thread, then read.
 */
public final class Transaction {
    /** One step: {@code verb} applied to {@code object}. */
    public record Operation(Verb verb, NftObject object) {
        public Operation {
            Objects.requireNonNull(verb, "verb");
            Objects.requireNonNull(object, "object");
            if (verb == Verb.INSERT && !(object instanceof Rule)) {
                throw new IllegalArgumentException("only rules can be inserted");
            }
            if (verb == Verb.FLUSH && (object instanceof Rule || object instanceof Element)) {
                throw new IllegalArgumentException("a " + object.kind() + " cannot be flushed");
            }
            if (verb != Verb.DELETE && object instanceof Element element && element.inMap()
                    && element.value().isEmpty()) {
                throw new IllegalArgumentException("an element added to map " + element.container()
                        + " needs a value");
            }
            if ((verb == Verb.DELETE) && object instanceof Rule) {
                throw new IllegalArgumentException("rules are deleted by handle, which this model does not keep");
            }
        }
    }

    private final Family family;
    private final String table;
    private final List<Operation> operations = new ArrayList<>();

    public Transaction(Family family, String table) {
        this.family = Objects.requireNonNull(family, "family");
        this.table = NftNames.requireIdentifier(table, "table name");
    }

    public Family family() {
        return family;
    }

    public String table() {
        return table;
    }

    public Transaction add(NftObject object) {
        return append(Verb.ADD, object);
    }

    public Transaction create(NftObject object) {
        return append(Verb.CREATE, object);
    }

    public Transaction insert(Rule rule) {
        return append(Verb.INSERT, rule);
    }

    public Transaction flush(NftObject object) {
        return append(Verb.FLUSH, object);
    }

    public Transaction delete(NftObject object) {
        return append(Verb.DELETE, object);
    }

    private Transaction append(Verb verb, NftObject object) {
        operations.add(new Operation(verb, object));
        return this;
    }

    /** Appends one operation, as taken from another transaction. */
    public Transaction append(Operation operation) {
        operations.add(Objects.requireNonNull(operation, "operation"));
        return this;
    }

    /** Appends every operation of {@code other}, which must work on the same table. */
    public Transaction addAll(Transaction other) {
        if (other.family != family || !other.table.equals(table)) {
            throw new IllegalArgumentException("cannot merge a transaction on " + other.family + " " + other.table
                    + " into one on " + family + " " + table);
        }
        operations.addAll(other.operations);
        return this;
    }

    public List<Operation> operations() {
        return Collections.unmodifiableList(operations);
    }

    public int size() {
        return operations.size();
    }

    public boolean isEmpty() {
        return operations.isEmpty();
    }

    /** The operation an nft error on script line {@code line} (1-based) is about. */
    public Operation operation(int line) {
        return operations.get(line - 1);
    }

    /** One operation as its script line, without the newline. */
    public String line(Operation operation) {
        StringBuilder out = new StringBuilder(96);
        operation.object().writeOperation(operation.verb(), family, table, out);
        return out.toString();
    }

    /** The nft script: one line per operation, in order. */
    public void writeTo(StringBuilder out) {
        for (Operation operation : operations) {
            operation.object().writeOperation(operation.verb(), family, table, out);
            out.append('\n');
        }
    }

    /** The nft script, for {@code nft -f}. */
    public String script() {
        StringBuilder out = new StringBuilder(operations.size() * 96);
        writeTo(out);
        return out.toString();
    }

    @Override
    public String toString() {
        return script();
    }
}
