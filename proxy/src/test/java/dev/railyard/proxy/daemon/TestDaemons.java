package dev.railyard.proxy.daemon;

import dev.railyard.proxy.source.ManifestDirectorySource;
import dev.railyard.proxy.source.kubernetes.ApiClients;
import dev.railyard.proxy.source.kubernetes.KubernetesSource;
import dev.railyard.proxy.source.kubernetes.KubernetesSourceSettings;
import dev.railyard.proxy.source.kubernetes.RetryBackoff;
import dev.railyard.proxy.source.kubernetes.TestApiServer;
import dev.railyard.proxy.sync.IptablesSyncer;
import dev.railyard.proxy.sync.SyncResult;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Daemons under test: quick syncs, quick API retries, every sync result collected. */
final class TestDaemons {
    /** Syncs at most every 100 ms, full every 5 minutes, a failure retried after a second. */
    static final IptablesSyncer.Settings QUICK = new IptablesSyncer.Settings(Duration.ofMillis(100),
            Duration.ofMinutes(5), Duration.ofSeconds(1));

    private TestDaemons() {
    }

    static ProxyDaemon fromApiServer(ProxyDaemonSettings settings, TestApiServer apiServer,
                                     List<SyncResult> results) throws Exception {
        KubernetesSourceSettings sourceSettings = KubernetesSourceSettings.defaults()
                .withBackoff(new RetryBackoff(Duration.ofMillis(100), Duration.ofMillis(500)));
        return ProxyDaemon.start(settings, "api-server",
                handler -> {
                    try {
                        return new KubernetesSource(ApiClients.fromMaster(apiServer.url()), handler, sourceSettings);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, results::add);
    }

    static ProxyDaemon fromManifests(ProxyDaemonSettings settings, Path manifests, List<SyncResult> results)
            throws Exception {
        return ProxyDaemon.start(settings, manifests.toString(),
                handler -> new ManifestDirectorySource(manifests, handler), results::add);
    }
}
