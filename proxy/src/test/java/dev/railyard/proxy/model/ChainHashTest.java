package dev.railyard.proxy.model;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Chain names must be kube-proxy's to the character: Go computed the expectations in go-chain-hashes.tsv. */
class ChainHashTest {

    @Test
    void kubernetesHttpsPortHashesAsInKubeProxy() {
        ServicePortName https = ServicePortName.of("default", "kubernetes", "https", Protocol.TCP);

        assertThat("KUBE-SVC-" + https.hash()).isEqualTo("KUBE-SVC-NPX46M4PTMTKRN6Y");
    }

    @Test
    void everyHashComputedByGoMatches() throws IOException {
        List<String[]> rows = rows();
        assertThat(rows).hasSizeGreaterThan(40);
        for (String[] row : rows) {
            ServicePortName name = parse(row[1], Protocol.valueOf(row[2].toUpperCase(java.util.Locale.ROOT)));
            String actual = row[0].equals("svc") ? name.hash() : name.endpointHash(row[3]);
            assertThat(actual).as(String.join(" ", row)).isEqualTo(row[4]);
        }
    }

    @Test
    void endpointChainUsesBracketedIpv6AsGoJoinHostPortDoes() {
        ServicePortName name = ServicePortName.of("ns1", "svc1", "p80", Protocol.TCP);
        Endpoint ipv6 = Endpoint.builder(name, "2001:db8::1", 80).build();

        assertThat(ipv6.hostPort()).isEqualTo("[2001:db8::1]:80");
        assertThat(ipv6.hash()).isEqualTo(name.endpointHash("[2001:db8::1]:80"));
        assertThat(ipv6.chainName()).isEqualTo("KUBE-SEP-" + name.endpointHash("[2001:db8::1]:80"));
    }

    @Test
    void namesThatCouldInjectIptablesArgumentsAreRejected() {
        assertThatThrownBy(() -> ServicePortName.of("default", "web\" -j ACCEPT", "", Protocol.TCP))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("DNS-1035");
        assertThatThrownBy(() -> ServicePortName.of("default ns", "web", "", Protocol.TCP))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("namespace");
        assertThatThrownBy(() -> ServicePortName.of("default", "web", "--dport", Protocol.TCP))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("port name");
        assertThatThrownBy(() -> ServicePortName.of("default", "web", "a\nb", Protocol.TCP))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static ServicePortName parse(String text, Protocol protocol) {
        int slash = text.indexOf('/');
        int colon = text.indexOf(':', slash);
        String namespace = text.substring(0, slash);
        String name = colon < 0 ? text.substring(slash + 1) : text.substring(slash + 1, colon);
        String port = colon < 0 ? "" : text.substring(colon + 1);
        return ServicePortName.of(namespace, name, port, protocol);
    }

    private static List<String[]> rows() throws IOException {
        List<String[]> rows = new ArrayList<>();
        try (InputStream in = ChainHashTest.class.getResourceAsStream("/kubeproxy-compat/go-chain-hashes.tsv");
             BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (!line.startsWith("#") && !line.isBlank()) {
                    rows.add(line.split("\t", -1));
                }
            }
        }
        return rows;
    }
}
