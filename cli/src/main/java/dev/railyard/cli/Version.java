package dev.railyard.cli;

import picocli.CommandLine.IVersionProvider;

final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
        String version = Railyard.class.getPackage().getImplementationVersion();
        return new String[] {"railyard " + (version == null ? "(development build)" : version)};
    }
}
