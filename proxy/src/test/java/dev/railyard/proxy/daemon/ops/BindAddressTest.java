package dev.railyard.proxy.daemon.ops;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.InetSocketAddress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BindAddressTest {
    @Test
    void readsKubeProxysSpellings() {
        assertThat(BindAddress.parse("--f", "0.0.0.0:10256")).isEqualTo(new BindAddress("0.0.0.0", 10256));
        assertThat(BindAddress.parse("--f", "[::1]:10249")).isEqualTo(new BindAddress("::1", 10249));
        assertThat(BindAddress.parse("--f", ":10256")).isEqualTo(new BindAddress("", 10256));
        assertThat(BindAddress.parse("--f", " ").disabled()).isTrue();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "10256           | must be IP:PORT",
            "::1:10249       | write an IPv6 address as [IP]:PORT",
            "127.0.0.1:70000 | the port must be 0-65535",
            "127.0.0.1:http  | the port must be 0-65535",
            "localhost:10249 | localhost is not an IP address",
            "; rm -rf /:1    | is not an IP address"})
    void namesTheFlagAndTheProblem(String text, String problem) {
        assertThatThrownBy(() -> BindAddress.parse("--metrics-bind-address", text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--metrics-bind-address: \"" + text + "\"")
                .hasMessageContaining(problem);
    }

    @Test
    void overlapsWhenOnePortOfOneAddressWouldBeBoundTwice() {
        BindAddress any = BindAddress.parse("a", ":10256");
        BindAddress loopback = BindAddress.parse("b", "127.0.0.1:10256");
        assertThat(any.overlaps(loopback)).isTrue();
        assertThat(loopback.overlaps(BindAddress.parse("c", "0.0.0.0:10256"))).isTrue();
        assertThat(loopback.overlaps(BindAddress.parse("d", "127.0.0.2:10256"))).isFalse();
        assertThat(loopback.overlaps(BindAddress.parse("e", "127.0.0.1:10249"))).isFalse();
        assertThat(BindAddress.parse("f", "127.0.0.1:0").overlaps(BindAddress.parse("g", "127.0.0.1:0"))).isFalse();
        assertThat(loopback.overlaps(BindAddress.DISABLED)).isFalse();
    }

    @Test
    void bindsTheWildcardForAnEmptyHost() {
        InetSocketAddress wildcard = BindAddress.parse("a", ":10256").socketAddress();
        assertThat(wildcard.getAddress().isAnyLocalAddress()).isTrue();
        assertThat(wildcard.getPort()).isEqualTo(10256);
        assertThat(BindAddress.parse("b", "[::1]:0").socketAddress().getAddress().isLoopbackAddress()).isTrue();
        assertThatThrownBy(BindAddress.DISABLED::socketAddress).isInstanceOf(IllegalStateException.class);
    }
}
