package dev.railyard.cli;

import picocli.CommandLine.Option;

import java.util.List;

/**
 * --cluster-cidr, declared once for {@code railyard proxy} and the commands that take {@link NodeOptions}: a picocli
 * mixin.
 */
final class ClusterCidrOption {
    /** Null when not given, so that {@code railyard proxy} can tell it from its configuration file's value. */
    @Option(names = "--cluster-cidr", paramLabel = "CIDR", split = ",",
            description = "The pod network (one CIDR per family): traffic from outside it to a cluster IP is "
                    + "masqueraded.")
    List<String> cidrs;

    /** The CIDRs given, none when the option was not. */
    List<String> orEmpty() {
        return cidrs == null ? List.of() : cidrs;
    }
}
