package dev.railyard.proxy.daemon;

import dev.railyard.proxy.sync.SyncResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

import java.util.Locale;
import java.util.function.Consumer;

/**
 * One structured log line per sync: what an operator greps (or queries, with {@code --logging-format json}) for
 * when rules look stale or syncs look slow. The figures are key-value fields, not message text, so they stay
 * numbers in JSON.
 */
final class SyncLog implements Consumer<SyncResult> {
    private static final Logger log = LoggerFactory.getLogger("dev.railyard.proxy.sync");

    @Override
    public void accept(SyncResult result) {
        if (result.kind() == SyncResult.Kind.SKIPPED) {
            log.atDebug().setMessage("sync skipped: services or endpoint slices not synced yet")
                    .addKeyValue("family", result.family().kubernetesName()).log();
            return;
        }
        LoggingEventBuilder event = result.failed() ? log.atWarn() : log.atInfo();
        event.setMessage(result.failed() ? "sync failed" : "synced")
                .addKeyValue("family", result.family().kubernetesName())
                .addKeyValue("sync", result.kind().name().toLowerCase(Locale.ROOT))
                .addKeyValue("result", result.failed() ? "failed" : "ok")
                .addKeyValue("renderMs", result.renderTime().toMillis())
                .addKeyValue("restoreMs", result.restoreTime().toMillis())
                .addKeyValue("bytes", result.bytesWritten())
                .addKeyValue("services", result.services())
                .addKeyValue("endpoints", result.endpoints())
                .addKeyValue("natRulesWritten", result.natRulesWritten())
                .addKeyValue("natRulesSkipped", result.natRulesSkipped())
                .addKeyValue("deletedChains", result.deletedChains())
                .addKeyValue("changed", result.changedServices().size());
        if (result.failed()) {
            event.addKeyValue("error", result.error());
        }
        event.log();
    }
}
