package dev.railyard.nftables;

import dev.railyard.nftables.NftException.Reason;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code nft} tool as an applier: a transaction is written as a script to {@code nft -f -}, which the
 * kernel applies as one batch, all or nothing. An error nft reports on a script line is tied back to that
 * operation. Commands may run behind a prefix ({@code ip netns exec NAME}). Immutable and thread-safe.
 */
public final class NftCommand implements NftApplier {
    /** Generous: loading a large ruleset with nft takes minutes on a small node. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(15);

    /** "/dev/stdin:12:1-30: Error: Could not process rule: No such file or directory". */
    private static final Pattern ERROR_LINE = Pattern.compile("^[^:\\n]*:(\\d+):[0-9-]+: Error: (.*)$",
            Pattern.MULTILINE);
    private static final Pattern OBJECT_HEADER = Pattern.compile("^\\t(chain|set|map) (\\S+) \\{",
            Pattern.MULTILINE);

    private final List<String> commandPrefix;
    private final Duration timeout;

    private NftCommand(List<String> commandPrefix, Duration timeout) {
        this.commandPrefix = List.copyOf(commandPrefix);
        this.timeout = Objects.requireNonNull(timeout, "timeout");
    }

    /** nft on this host. */
    public static NftCommand create() {
        return new NftCommand(List.of(), DEFAULT_TIMEOUT);
    }

    /** The same, running every command behind {@code prefix}, e.g. {@code ip netns exec NAME}. */
    public NftCommand withCommandPrefix(List<String> prefix) {
        return new NftCommand(prefix, timeout);
    }

    public NftCommand withTimeout(Duration value) {
        return new NftCommand(commandPrefix, value);
    }

    public List<String> commandPrefix() {
        return commandPrefix;
    }

    /** Applies {@code tx} as one batch. An empty transaction runs nothing. */
    @Override
    public int apply(Transaction tx) throws NftException, InterruptedException {
        return tx.isEmpty() ? 0 : runScript(tx, false);
    }

    /** Checks {@code tx} with {@code nft -c}: parsed and validated by the kernel, nothing committed. */
    public void check(Transaction tx) throws NftException, InterruptedException {
        if (!tx.isEmpty()) {
            runScript(tx, true);
        }
    }

    /** {@code nft list table FAMILY NAME}; null when there is no such table. */
    public String listTable(Family family, String table) throws NftException, InterruptedException {
        CommandRunner.Result result = run(List.of("list", "table", family.keyword(), table), null);
        if (result.exitCode() != 0) {
            if (isNoSuchTable(result)) {
                return null;
            }
            throw failure("nft list table " + family + " " + table, result);
        }
        return result.stdout();
    }

    /** {@code nft list ruleset}: every table of every family. */
    public String listRuleset() throws NftException, InterruptedException {
        CommandRunner.Result result = run(List.of("list", "ruleset"), null);
        if (result.exitCode() != 0) {
            throw failure("nft list ruleset", result);
        }
        return result.stdout();
    }

    /**
     * The names of the table's chains, sets and maps, read with {@code nft --terse list table} (elements left
     * out); empty lists when there is no such table.
     */
    @Override
    public TableObjects listObjects(Family family, String table) throws NftException, InterruptedException {
        CommandRunner.Result result = run(List.of("--terse", "list", "table", family.keyword(), table), null);
        if (result.exitCode() != 0) {
            if (isNoSuchTable(result)) {
                return TableObjects.none();
            }
            throw failure("nft list table " + family + " " + table, result);
        }
        List<String> chains = new ArrayList<>();
        List<String> sets = new ArrayList<>();
        List<String> maps = new ArrayList<>();
        Matcher matcher = OBJECT_HEADER.matcher(result.stdout());
        while (matcher.find()) {
            switch (matcher.group(1)) {
                case "chain" -> chains.add(matcher.group(2));
                case "set" -> sets.add(matcher.group(2));
                default -> maps.add(matcher.group(2));
            }
        }
        return new TableObjects(true, chains, sets, maps);
    }

    /** Reads {@code nft list map} (or, for a set, {@code nft list set}) and its {@code elements = { ... }}. */
    @Override
    public List<Element> listElements(Family family, String table, String container)
            throws NftException, InterruptedException {
        for (String kind : List.of("map", "set")) {
            CommandRunner.Result result = run(List.of("list", kind, family.keyword(), table, container), null);
            if (result.exitCode() == 0) {
                return ElementListing.parse(container, kind.equals("map"), result.stdout());
            }
            if (!isNoSuchTable(result)) {
                throw failure("nft list " + kind + " " + family + " " + table + " " + container, result);
            }
        }
        return List.of();
    }

    @Override
    public boolean deleteTableIfExists(Family family, String table) throws NftException, InterruptedException {
        CommandRunner.Result result = run(List.of("delete", "table", family.keyword(), table), null);
        if (result.exitCode() == 0) {
            return true;
        }
        if (isNoSuchTable(result)) {
            return false;
        }
        throw failure("nft delete table " + family + " " + table, result);
    }

    /** Runs the script; its length in bytes. */
    private int runScript(Transaction tx, boolean checkOnly) throws NftException, InterruptedException {
        byte[] script = tx.script().getBytes(StandardCharsets.US_ASCII);
        List<String> args = checkOnly ? List.of("-c", "-f", "-") : List.of("-f", "-");
        CommandRunner.Result result = run(args, out -> out.write(script));
        if (result.exitCode() == 0) {
            return script.length;
        }
        String output = (result.stderr() + "\n" + result.stdout()).strip();
        Matcher error = ERROR_LINE.matcher(output);
        if (error.find()) {
            int line = Integer.parseInt(error.group(1));
            if (line >= 1 && line <= tx.size()) {
                throw new NftException(reasonOf(error.group(2)), "nft: " + error.group(2), line - 1,
                        tx.line(tx.operation(line)));
            }
        }
        throw new NftException(reasonOf(output), "nft -f failed (exit " + result.exitCode() + "): " + output);
    }

    private CommandRunner.Result run(List<String> args, CommandRunner.Input stdin)
            throws NftException, InterruptedException {
        List<String> command = new ArrayList<>(commandPrefix);
        command.add("nft");
        command.addAll(args);
        try {
            return CommandRunner.run(command, stdin, timeout);
        } catch (IOException e) {
            throw new NftException(e.getMessage(), e);
        }
    }

    private static boolean isNoSuchTable(CommandRunner.Result result) {
        return result.stderr().contains("No such file or directory");
    }

    private static NftException failure(String what, CommandRunner.Result result) {
        String output = (result.stderr() + "\n" + result.stdout()).strip();
        return new NftException(reasonOf(output), what + " failed (exit " + result.exitCode() + "): " + output);
    }

    /** The errno text nft prints, in this model's terms. */
    static Reason reasonOf(String message) {
        if (message.contains("No such file or directory")) {
            return Reason.NOT_FOUND;
        }
        if (message.contains("File exists")) {
            return Reason.EXISTS;
        }
        if (message.contains("Device or resource busy")) {
            return Reason.BUSY;
        }
        if (message.contains("syntax error") || message.contains("Invalid argument")
                || message.contains("Operation not supported") || message.contains("Too many links")
                || message.contains("Too many levels of symbolic links")) {
            return Reason.INVALID;
        }
        return Reason.OTHER;
    }

    @Override
    public String toString() {
        List<String> command = new ArrayList<>(commandPrefix);
        command.add("nft");
        return String.join(" ", command);
    }
}
