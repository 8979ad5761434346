package dev.railyard.overlay.lease;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.etcd.EtcdCluster;
import dev.railyard.overlay.etcd.RequiresEtcd;
import dev.railyard.overlay.etcd.TlsFiles;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

@RequiresEtcd
class EtcdTlsTest {
    private static EtcdCluster etcd;

    @BeforeAll
    static void start() throws Exception {
        etcd = EtcdCluster.start(1, true);
    }

    @AfterAll
    static void stop() {
        if (etcd != null) {
            etcd.close();
        }
    }

    private static EtcdOptions options(Path ca, Path cert, Path key) {
        return new EtcdOptions(etcd.clientUrls(), "/tls", ca, cert, key, Duration.ofMinutes(5), Duration.ofSeconds(4));
    }

    @Test
    void clientCertificateSignedByTheClusterCaWorks() {
        TlsFiles t = etcd.tls();
        try (EtcdSubnetManager m = new EtcdSubnetManager(options(t.caCert(), t.clientCert(), t.clientKey()))) {
            m.putNetworkConfig("{\"Network\":\"10.30.0.0/16\",\"Backend\":{\"Type\":\"host-gw\"}}");
            Lease l = m.acquire(new LeaseAttrs(Ip4Net.parseAddress("192.168.9.1"), "host-gw", null), null);
            assertThat(m.list().leases()).extracting(Lease::subnet).containsExactly(l.subnet());
        }
    }

    @Test
    void certificateFromAnotherCaIsRejectedWithAClearError() {
        TlsFiles t = etcd.tls();
        try (EtcdSubnetManager m = new EtcdSubnetManager(options(t.caCert(), t.rogueCert(), t.rogueKey()))) {
            assertThatThrownBy(m::networkConfig).isInstanceOf(LeaseException.class)
                    .hasMessageContaining("read network config /tls/config")
                    .hasMessageContaining(etcd.clientUrls().get(0))
                    .satisfies(e -> assertThat(e.getMessage().toLowerCase()).containsAnyOf("certificate", "ssl", "tls", "handshake"))
                    .satisfies(e -> System.out.println("rejected client certificate reported as: " + e.getMessage()));
        }
    }

    @Test
    void withoutAClientCertificateTheServerRefuses() {
        TlsFiles t = etcd.tls();
        try (EtcdSubnetManager m = new EtcdSubnetManager(options(t.caCert(), null, null))) {
            assertThatThrownBy(m::networkConfig).isInstanceOf(LeaseException.class)
                    .hasMessageContaining(etcd.clientUrls().get(0));
        }
    }

    @Test
    void unreadableOrBrokenFilesNameTheFlag() {
        TlsFiles t = etcd.tls();
        assertThatThrownBy(() -> new EtcdSubnetManager(options(t.caCert(), t.dir().resolve("nope.pem"), t.clientKey())))
                .isInstanceOf(LeaseException.class).hasMessageContaining("--etcd-certfile").hasMessageContaining("nope.pem");
        assertThatThrownBy(() -> new EtcdSubnetManager(options(t.caCert(), t.clientKey(), t.clientKey())))
                .isInstanceOf(LeaseException.class).hasMessageContaining("cannot load etcd TLS files");
        assertThatThrownBy(() -> new EtcdOptions(etcd.clientUrls(), "/tls", t.caCert(), t.clientCert(), null, null, null))
                .hasMessageContaining("--etcd-certfile and --etcd-keyfile must be given together");
    }
}
