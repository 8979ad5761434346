package dev.railyard.proxy.daemon.ops;

import dev.railyard.testkit.ManualClock;
import static dev.railyard.proxy.daemon.ops.TestSupport.T0;
import static dev.railyard.proxy.daemon.ops.TestSupport.result;
import static dev.railyard.proxy.daemon.ops.TestSupport.success;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.sync.SyncResult;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ProxyHealthTest {
    private static final Duration SYNC_PERIOD = Duration.ofSeconds(30);

    private final ManualClock clock = new ManualClock(T0);
    private final ProxyHealth health = ProxyHealth.forSyncPeriod(SYNC_PERIOD, clock);

    @Test
    void healthyBeforeAnythingHappens() {
        assertThat(health.status().healthy()).isTrue();
        assertThat(health.status().httpStatus()).isEqualTo(200);
    }

    @Test
    void queuedUpdateWithoutSyncTurnsUnhealthyAfterTwiceTheSyncPeriodAndASyncHeals() {
        health.started(IpFamily.V4);
        clock.advance(Duration.ofSeconds(5));
        health.queued(IpFamily.V4);
        Instant queuedAt = clock.instant();

        clock.advance(Duration.ofSeconds(59));
        assertThat(health.isHealthy()).as("late by less than 2 x syncPeriod").isTrue();
        health.queued(IpFamily.V4); // a later change does not restart the clock of the oldest pending one
        clock.advance(Duration.ofSeconds(1));
        ProxyHealth.Status late = health.status();
        assertThat(late.healthy()).isFalse();
        assertThat(late.httpStatus()).isEqualTo(503);
        assertThat(late.lastUpdated()).isEqualTo(T0);
        assertThat(queuedAt.plus(SYNC_PERIOD.multipliedBy(2))).isEqualTo(late.currentTime());

        health.accept(success(IpFamily.V4, SyncResult.Kind.FULL, clock.instant(), Duration.ofMillis(5)));
        assertThat(health.isHealthy()).isTrue();
        clock.advance(Duration.ofMinutes(10));
        assertThat(health.isHealthy()).as("nothing queued: idle is healthy").isTrue();
    }

    @Test
    void failedAndSkippedSyncsDoNotHeal() {
        health.started(IpFamily.V4);
        health.queued(IpFamily.V4);
        clock.advance(Duration.ofSeconds(61));

        health.accept(result(IpFamily.V4, SyncResult.Kind.FULL, clock.instant(), "restore failed", Duration.ZERO,
                Duration.ZERO));
        health.accept(new SyncResult(IpFamily.V4, SyncResult.Kind.SKIPPED, clock.instant(), null, Duration.ZERO,
                Duration.ZERO, 0, 0, 0, 0, 0, 0, 0, 0, 0, Set.of(), List.of(),
                Set.of(), Map.of(), null));

        assertThat(health.isHealthy()).isFalse();
    }

    @Test
    void oneLateFamilyMakesTheProxyUnhealthy() {
        health.started(IpFamily.V4);
        health.started(IpFamily.V6);
        health.queued(IpFamily.V4);
        health.queued(IpFamily.V6);
        clock.advance(Duration.ofSeconds(30));
        health.updated(IpFamily.V4);
        clock.advance(Duration.ofSeconds(30));

        assertThat(health.isHealthy()).isFalse();
        health.updated(IpFamily.V6);
        assertThat(health.isHealthy()).isTrue();
    }

    @Test
    void aFamilyThatNeverStartedIsNotWatched() {
        health.queued(IpFamily.V6);
        clock.advance(Duration.ofHours(1));

        assertThat(health.isHealthy()).isTrue();
    }

    @Test
    void bodiesHaveKubeProxysFields() {
        health.started(IpFamily.V4);
        health.queued(IpFamily.V4);
        JsonObject healthy = JsonParser.parseString(health.status().healthzJson()).getAsJsonObject();
        assertThat(healthy.keySet()).containsExactlyInAnyOrder("lastUpdated", "currentTime", "nodeEligible");
        assertThat(healthy.get("lastUpdated").getAsString()).isEqualTo(healthy.get("currentTime").getAsString());
        assertThat(healthy.get("nodeEligible").getAsBoolean()).isTrue();

        clock.advance(Duration.ofSeconds(90));
        JsonObject unhealthy = JsonParser.parseString(health.status().livezJson()).getAsJsonObject();
        assertThat(unhealthy.keySet()).containsExactlyInAnyOrder("lastUpdated", "currentTime");
        assertThat(Instant.parse(unhealthy.get("lastUpdated").getAsString())).isEqualTo(T0);
        assertThat(Instant.parse(unhealthy.get("currentTime").getAsString())).isEqualTo(T0.plusSeconds(90));
    }
}
