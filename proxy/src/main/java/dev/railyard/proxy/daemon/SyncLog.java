package dev.railyard.proxy.daemon;

import dev.railyard.proxy.sync.SyncResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Consumer;

/** One structured log line per sync: what an operator greps for when rules look stale or syncs look slow. */
final class SyncLog implements Consumer<SyncResult> {
    private static final Logger log = LoggerFactory.getLogger("dev.railyard.proxy.sync");

    @Override
    public void accept(SyncResult result) {
        if (result.kind() == SyncResult.Kind.SKIPPED) {
            log.debug("family={} sync skipped: services or endpoint slices not synced yet",
                    result.family().kubernetesName());
            return;
        }
        String outcome = result.failed() ? "failed" : "ok";
        log.info("family={} sync={} result={} renderMs={} restoreMs={} bytes={} services={} endpoints={} "
                        + "natRulesWritten={} natRulesSkipped={} deletedChains={} changed={}{}",
                result.family().kubernetesName(), result.kind().name().toLowerCase(java.util.Locale.ROOT), outcome,
                result.renderTime().toMillis(), result.restoreTime().toMillis(), result.bytesWritten(),
                result.services(), result.endpoints(), result.natRulesWritten(), result.natRulesSkipped(),
                result.deletedChains(), result.changedServices().size(),
                result.failed() ? " error=" + result.error() : "");
    }
}
