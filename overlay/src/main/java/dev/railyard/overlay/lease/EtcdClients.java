package dev.railyard.overlay.lease;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.grpc.netty.GrpcSslContexts;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** Builds jetcd clients, turning TLS file problems into errors that name the flag and file. */
final class EtcdClients {
    private EtcdClients() {
    }

    static Client create(EtcdOptions options) {
        ClientBuilder b = Client.builder()
                .endpoints(options.endpoints().toArray(String[]::new))
                .connectTimeout(Duration.ofSeconds(3))
                // keep jetcd's own retries short: our callers own the retry policy (renew loop, watch backoff)
                .retryMaxDuration(options.requestTimeout())
                .retryMaxAttempts(2)
                // fail fast with the transport error (e.g. a rejected certificate) instead of waiting
                // silently for a channel that will never become ready
                .waitForReady(false)
                .keepaliveTime(Duration.ofSeconds(10))
                .keepaliveTimeout(Duration.ofSeconds(5));
        if (options.usesTls()) {
            Path ca = options.caFile() == null ? null : readable(options.caFile(), "--etcd-cafile");
            Path cert = options.certFile() == null ? null : readable(options.certFile(), "--etcd-certfile");
            Path key = options.keyFile() == null ? null : readable(options.keyFile(), "--etcd-keyfile");
            try {
                SslContextBuilder ssl = GrpcSslContexts.forClient();
                if (ca != null) {
                    ssl.trustManager(ca.toFile());
                }
                if (cert != null) {
                    ssl.keyManager(cert.toFile(), key.toFile());
                }
                b.sslContext(ssl.build());
            } catch (IOException | IllegalArgumentException e) {
                throw new LeaseException("cannot load etcd TLS files (" + given("--etcd-cafile", ca)
                        + given("--etcd-certfile", cert) + given("--etcd-keyfile", key)
                        + "keys must be PEM PKCS#8): " + rootMessage(e), e);
            }
        }
        return b.build();
    }

    /** "--flag FILE, " for a flag that was given; nothing for one that was not. */
    private static String given(String flag, Path file) {
        return file == null ? "" : flag + " " + file + ", ";
    }

    private static Path readable(Path p, String flag) {
        if (!Files.isReadable(p)) {
            throw new LeaseException(flag + " " + p + ": file does not exist or is not readable");
        }
        return p;
    }

    static String rootMessage(Throwable t) {
        Throwable root = t;
        StringBuilder sb = new StringBuilder();
        while (root != null) {
            if (root.getMessage() != null && !sb.toString().contains(root.getMessage())) {
                if (sb.length() > 0) {
                    sb.append(": ");
                }
                sb.append(root.getMessage());
            }
            if (root.getCause() == root) {
                break;
            }
            root = root.getCause();
        }
        return sb.length() == 0 ? t.getClass().getSimpleName() : sb.toString();
    }
}
