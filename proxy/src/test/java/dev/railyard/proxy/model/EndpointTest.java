package dev.railyard.proxy.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class EndpointTest {
    private static final ServicePortName PORT = ServicePortName.of("shop", "web", "http", Protocol.TCP);

    @Test
    void hostPortBracketsIpv6Addresses() {
        assertThat(endpoint("10.1.2.3", 8080).hostPort()).isEqualTo("10.1.2.3:8080");
        assertThat(endpoint("fd00::5", 80).hostPort()).isEqualTo("[fd00::5]:80");
    }

    @Test
    void comparesAsTheHostPortStringsDoWithoutBuildingThem() {
        SplittableRandom random = new SplittableRandom(3);
        List<Endpoint> endpoints = new ArrayList<>(List.of(endpoint("10.0.0.1", 80), endpoint("10.0.0.12", 80),
                endpoint("10.0.0.1", 8), endpoint("10.0.0.1", 800), endpoint("10.0.0.1", 65535),
                endpoint("fd00::1", 80), endpoint("fd00::12", 1), endpoint("fd00::1", 9)));
        for (int i = 0; i < 300; i++) {
            String ip = random.nextBoolean()
                    ? "10." + random.nextInt(3) + "." + random.nextInt(12) + "." + random.nextInt(120)
                    : "fd00::" + Integer.toHexString(random.nextInt(0x1000));
            endpoints.add(endpoint(ip, 1 + random.nextInt(random.nextBoolean() ? 100 : 65535)));
        }

        for (Endpoint a : endpoints) {
            for (Endpoint b : endpoints) {
                assertThat(Integer.signum(a.compareHostPort(b)))
                        .as("%s vs %s", a.hostPort(), b.hostPort())
                        .isEqualTo(Integer.signum(a.hostPort().compareTo(b.hostPort())));
            }
        }
    }

    @Test
    void endpointsDifferingOnlyInPortAreNotEqual() {
        assertThat(endpoint("10.0.0.1", 80)).isEqualTo(endpoint("10.0.0.1", 80))
                .isNotEqualTo(endpoint("10.0.0.1", 81));
    }

    private static Endpoint endpoint(String ip, int port) {
        return Endpoint.builder(PORT, ip, port).build();
    }
}
