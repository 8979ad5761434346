package dev.railyard.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class AddressTextTest {

    @Test
    void formatsIpv6TheWayTheKernelToolsDo() {
        assertThat(AddressText.format(AddressText.parse("fd00:0:0:0:0:0:0:2"))).isEqualTo("fd00::2");
        assertThat(AddressText.format(AddressText.parse("::1"))).isEqualTo("::1");
        assertThat(AddressText.format(AddressText.parse("::"))).isEqualTo("::");
        assertThat(AddressText.format(AddressText.parse("2001:db8:0:0:1:0:0:1"))).isEqualTo("2001:db8::1:0:0:1");
        assertThat(AddressText.format(AddressText.parse("2001:db8:0:1:1:1:1:1"))).isEqualTo("2001:db8:0:1:1:1:1:1");
        assertThat(AddressText.format(AddressText.parse("fe80::1:0"))).isEqualTo("fe80::1:0");
        assertThat(AddressText.format(AddressText.parse("::ffff:10.0.0.1"))).isEqualTo("10.0.0.1");
        assertThat(AddressText.format(AddressText.parse("10.0.0.1"))).isEqualTo("10.0.0.1");
    }

    @Test
    void formatsSocketAddressesWithBracketsForIpv6() {
        assertThat(AddressText.format(new InetSocketAddress(AddressText.parse("fd00::2"), 80))).isEqualTo("[fd00::2]:80");
        assertThat(AddressText.format(new InetSocketAddress(AddressText.parse("10.1.2.3"), 443))).isEqualTo("10.1.2.3:443");
    }

    @Test
    void offsetsAddressesAcrossOctets() {
        assertThat(AddressText.offset("192.168.1.0", 5)).isEqualTo("192.168.1.5");
        assertThat(AddressText.offset("10.0.0.255", 1)).isEqualTo("10.0.1.0");
        assertThat(AddressText.offset("fd77::", 3)).isEqualTo("fd77::3");
    }

    @Test
    void refusesHostNames() {
        assertThatThrownBy(() -> AddressText.parse("example.com")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void parsesServerReplies() {
        assertThat(ServerReply.parse("web [fd00::2]:40000")).isEqualTo(new ServerReply("web", "fd00::2", 40000));
        assertThat(ServerReply.parse("web 10.0.0.2:40000")).isEqualTo(new ServerReply("web", "10.0.0.2", 40000));
        assertThat(ProbeResult.parse("ok web 10.0.0.2:1").serverReply().serverName()).isEqualTo("web");
        assertThat(ProbeResult.parse("refused").outcome()).isEqualTo(ProbeResult.Outcome.REFUSED);
        assertThat(ProbeResult.parse("error boom").detail()).isEqualTo("boom");
    }
}
