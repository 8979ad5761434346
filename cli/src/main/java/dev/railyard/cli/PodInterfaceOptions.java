package dev.railyard.cli;

import picocli.CommandLine.Option;

/**
 * The interfaces that tell pod traffic from other traffic in --detect-local-mode BridgeInterface and
 * InterfaceNamePrefix, declared once for {@code railyard proxy} and the commands that take {@link NodeOptions}: a
 * picocli mixin.
 */
final class PodInterfaceOptions {
    /** Null when not given. */
    @Option(names = "--pod-bridge-interface", paramLabel = "NAME",
            description = "With --detect-local-mode BridgeInterface: the bridge the node's pods are on.")
    String bridgeInterface;

    /** Null when not given. */
    @Option(names = "--pod-interface-name-prefix", paramLabel = "PREFIX",
            description = "With --detect-local-mode InterfaceNamePrefix: the name prefix of the pods' interfaces.")
    String interfaceNamePrefix;
}
