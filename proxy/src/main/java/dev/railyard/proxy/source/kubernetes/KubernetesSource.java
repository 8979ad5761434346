package dev.railyard.proxy.source.kubernetes;

import dev.railyard.proxy.source.ClusterEventHandler;
import dev.railyard.proxy.source.ClusterSource;
import io.kubernetes.client.common.KubernetesListObject;
import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.informer.ListerWatcher;
import io.kubernetes.client.informer.SharedIndexInformer;
import io.kubernetes.client.informer.SharedInformerFactory;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServiceCIDR;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cluster state from the API server, the way kube-proxy gets it: client-java shared informers for v1
 * Services and discovery.k8s.io/v1 EndpointSlices in all namespaces, filtered by kube-proxy's label selector,
 * feeding a {@link ClusterEventHandler}.
 *
 * <p>client-java's informers list, then watch from the list's resourceVersion (with a 5-10 min watch timeout,
 * as client-go), resume watching after a watch ends, relist after a 410 Gone or a broken stream, and keep a
 * cache whose relist differences come out as additions, updates and deletions. This class adds what
 * kube-proxy has and they lack: the label selector and bookmarks, exponential backoff between failed calls,
 * a synced signal that follows the delivery of the initial list, one delivery thread per kind, and
 * optionally a periodic resync.
 */
public final class KubernetesSource implements ClusterSource {
    private static final Logger log = LoggerFactory.getLogger(KubernetesSource.class);

    private final SharedInformerFactory informers;
    private final KindEventDispatcher<V1Service> services;
    private final KindEventDispatcher<V1EndpointSlice> endpointSlices;
    private final SharedIndexInformer<V1Service> serviceInformer;
    private final SharedIndexInformer<V1EndpointSlice> endpointSliceInformer;
    /** This node's Node and the ServiceCIDRs, when asked for; their sync does not gate programming. */
    private final KindEventDispatcher<V1Node> nodes;
    private final SharedIndexInformer<V1Node> nodeInformer;
    private final KindEventDispatcher<V1ServiceCIDR> serviceCidrs;
    private final SharedIndexInformer<V1ServiceCIDR> serviceCidrInformer;
    private volatile boolean closed;
    private boolean started;

    public KubernetesSource(ApiClient apiClient, ClusterEventHandler handler) {
        this(apiClient, handler, KubernetesSourceSettings.defaults());
    }

    /**
     * @throws IllegalArgumentException when the client has a read timeout, which would cut every quiet watch
     *     short (build clients with {@link ApiClients})
     */
    public KubernetesSource(ApiClient apiClient, ClusterEventHandler handler, KubernetesSourceSettings settings) {
        Objects.requireNonNull(apiClient, "apiClient");
        Objects.requireNonNull(handler, "handler");
        Objects.requireNonNull(settings, "settings");
        if (apiClient.getReadTimeout() != 0) {
            throw new IllegalArgumentException("the ApiClient has a read timeout of " + apiClient.getReadTimeout()
                    + " ms; watches need none (0), or every quiet watch would fail and force a relist");
        }
        ExecutorService informerThreads = Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, "railyard-kube-informer");
            thread.setDaemon(true);
            return thread;
        });
        informers = new SharedInformerFactory(apiClient, informerThreads, false);

        services = new KindEventDispatcher<>("services", new KindEventDispatcher.Sink<>() {
            @Override
            public void onChange(V1Service oldObject, V1Service newObject) {
                handler.onServiceChange(oldObject, newObject);
            }

            @Override
            public void onSynced() {
                handler.onServicesSynced();
            }
        }, settings.resyncPeriod());
        endpointSlices = new KindEventDispatcher<>("endpointslices", new KindEventDispatcher.Sink<>() {
            @Override
            public void onChange(V1EndpointSlice oldObject, V1EndpointSlice newObject) {
                handler.onEndpointSliceChange(oldObject, newObject);
            }

            @Override
            public void onSynced() {
                handler.onEndpointSlicesSynced();
            }
        }, settings.resyncPeriod());

        serviceInformer = informerFor(V1Service.class,
                ProxiedObjectsListerWatcher.services(apiClient), services, settings);
        endpointSliceInformer = informerFor(V1EndpointSlice.class,
                ProxiedObjectsListerWatcher.endpointSlices(apiClient), endpointSlices, settings);
        if (settings.nodeName() != null) {
            nodes = new KindEventDispatcher<>("nodes", sink(handler::onNodeChange), settings.resyncPeriod());
            nodeInformer = informerFor(V1Node.class,
                    ProxiedObjectsListerWatcher.node(apiClient, settings.nodeName()), nodes, settings);
        } else {
            nodes = null;
            nodeInformer = null;
        }
        if (settings.serviceCidrs()) {
            serviceCidrs = new KindEventDispatcher<>("servicecidrs", sink(handler::onServiceCidrChange),
                    settings.resyncPeriod());
            serviceCidrInformer = informerFor(V1ServiceCIDR.class,
                    ProxiedObjectsListerWatcher.serviceCidrs(apiClient), serviceCidrs, settings);
        } else {
            serviceCidrs = null;
            serviceCidrInformer = null;
        }
    }

    private static <T> KindEventDispatcher.Sink<T> sink(BiConsumer<T, T> onChange) {
        return new KindEventDispatcher.Sink<>() {
            @Override
            public void onChange(T oldObject, T newObject) {
                onChange.accept(oldObject, newObject);
            }

            @Override
            public void onSynced() {
            }
        };
    }

    /** Starts listing and watching; returns at once. */
    @Override
    public synchronized void start() {
        if (closed) {
            throw new IllegalStateException("the source is closed");
        }
        if (started) {
            return;
        }
        started = true;
        informers.startAllRegisteredInformers();
        services.awaitSyncOf(serviceInformer);
        endpointSlices.awaitSyncOf(endpointSliceInformer);
        if (nodes != null) {
            nodes.awaitSyncOf(nodeInformer);
        }
        if (serviceCidrs != null) {
            serviceCidrs.awaitSyncOf(serviceCidrInformer);
        }
    }

    /** Both kinds' initial lists have been delivered and their synced calls made. */
    @Override
    public boolean hasSynced() {
        return services.hasSynced() && endpointSlices.hasSynced();
    }

    /** Stops the informers and the delivery threads; no handler call starts after this returns. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (started) {
            informers.stopAllRegisteredInformers();
        }
        services.close();
        endpointSlices.close();
        if (nodes != null) {
            nodes.close();
        }
        if (serviceCidrs != null) {
            serviceCidrs.close();
        }
    }

    private <T extends KubernetesObject, L extends KubernetesListObject> SharedIndexInformer<T> informerFor(
            Class<T> type, ListerWatcher<T, L> listerWatcher, KindEventDispatcher<T> dispatcher,
            KubernetesSourceSettings settings) {
        // Resync period 0: client-java's resync would withhold relisted objects from a handler between resyncs.
        SharedIndexInformer<T> informer = informers.sharedIndexInformerFor(
                new BackoffListerWatcher<>(listerWatcher, settings.backoff()), type, 0L, failureLogger());
        informer.setTransform(dispatcher.countingTransform());
        informer.addEventHandler(dispatcher);
        return informer;
    }

    private <T> BiConsumer<Class<T>, Throwable> failureLogger() {
        return (type, failure) -> {
            if (closed) {
                log.debug("{} list/watch ended while closing", type.getSimpleName(), failure);
            } else {
                log.warn("{} list/watch failed, will retry: {}", type.getSimpleName(), describe(failure));
                log.debug("{} list/watch failure", type.getSimpleName(), failure);
            }
        };
    }

    private static String describe(Throwable failure) {
        StringBuilder text = new StringBuilder(String.valueOf(failure));
        if (failure instanceof io.kubernetes.client.openapi.ApiException apiException && apiException.getCode() != 0) {
            text.append(" (HTTP ").append(apiException.getCode()).append(')');
        }
        for (Throwable cause = failure.getCause(); cause != null && cause != cause.getCause(); cause = cause.getCause()) {
            text.append("; caused by ").append(cause);
        }
        return text.toString();
    }
}
