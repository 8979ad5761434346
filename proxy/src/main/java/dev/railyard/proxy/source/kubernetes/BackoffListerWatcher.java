package dev.railyard.proxy.source.kubernetes;

import io.kubernetes.client.common.KubernetesListObject;
import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.informer.ListerWatcher;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.util.CallGeneratorParams;
import io.kubernetes.client.util.Watchable;
import java.time.Duration;

/**
 * Spaces out list and watch calls after failures. client-java's reflector retries a failed list every second
 * and a refused watch every second, forever and in step across nodes; client-go, and so kube-proxy, backs off
 * exponentially with jitter instead, which is what an API server coming back from an outage needs.
 *
 * <p>Only the reflector thread calls this, one call at a time.
 */
final class BackoffListerWatcher<T extends KubernetesObject, L extends KubernetesListObject>
        implements ListerWatcher<T, L> {

    @FunctionalInterface
    private interface ApiCall<R> {
        R call() throws ApiException;
    }

    private final ListerWatcher<T, L> delegate;
    private final RetryBackoff backoff;
    private int consecutiveFailures;

    BackoffListerWatcher(ListerWatcher<T, L> delegate, RetryBackoff backoff) {
        this.delegate = delegate;
        this.backoff = backoff;
    }

    @Override
    public L list(CallGeneratorParams params) throws ApiException {
        return afterBackoff(() -> delegate.list(params));
    }

    @Override
    public Watchable<T> watch(CallGeneratorParams params) throws ApiException {
        return afterBackoff(() -> delegate.watch(params));
    }

    private <R> R afterBackoff(ApiCall<R> apiCall) throws ApiException {
        pause(backoff.delayAfter(consecutiveFailures));
        try {
            R result = apiCall.call();
            consecutiveFailures = 0;
            return result;
        } catch (ApiException | RuntimeException e) {
            consecutiveFailures++;
            throw e;
        }
    }

    private static void pause(Duration delay) throws ApiException {
        if (delay.isZero()) {
            return;
        }
        try {
            Thread.sleep(delay.toMillis());
        } catch (InterruptedException e) {
            // The informer is stopping: give up this attempt, keep the flag for the reflector's loop.
            Thread.currentThread().interrupt();
            throw new ApiException("interrupted while backing off before the next API call");
        }
    }
}
