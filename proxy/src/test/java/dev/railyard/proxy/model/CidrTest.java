package dev.railyard.proxy.model;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.UnknownHostException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CidrTest {
    @Test
    void ipv4BlocksHoldTheirAddressesOnly() throws Exception {
        Cidr office = Cidr.parse("203.0.113.0/24");
        assertThat(office.contains(ip("203.0.113.0"))).isTrue();
        assertThat(office.contains(ip("203.0.113.255"))).isTrue();
        assertThat(office.contains(ip("203.0.112.255"))).isFalse();
        assertThat(office.contains(ip("203.0.114.0"))).isFalse();
        assertThat(office.family()).isEqualTo(IpFamily.V4);
        assertThat(office.prefixLength()).isEqualTo(24);

        Cidr one = Cidr.parse("127.0.0.2/32");
        assertThat(one.contains(ip("127.0.0.2"))).isTrue();
        assertThat(one.contains(ip("127.0.0.3"))).isFalse();

        Cidr odd = Cidr.parse("10.0.0.128/25");
        assertThat(odd.contains(ip("10.0.0.128"))).isTrue();
        assertThat(odd.contains(ip("10.0.0.127"))).isFalse();
    }

    @Test
    void ipv6BlocksCompareBothHalvesOfTheAddress() throws Exception {
        Cidr site = Cidr.parse("2001:db8:1::/48");
        assertThat(site.contains(ip("2001:db8:1:ffff::1"))).isTrue();
        assertThat(site.contains(ip("2001:db8:2::1"))).isFalse();

        Cidr lowerHalf = Cidr.parse("2001:db8::ab00/120");
        assertThat(lowerHalf.contains(ip("2001:db8::abff"))).isTrue();
        assertThat(lowerHalf.contains(ip("2001:db8::ac00"))).isFalse();
        assertThat(lowerHalf.contains(ip("2001:db9::ab01"))).as("upper 64 bits differ").isFalse();

        Cidr host = Cidr.parse("fd00::1/128");
        assertThat(host.contains(ip("fd00::1"))).isTrue();
        assertThat(host.contains(ip("fd00::2"))).isFalse();
    }

    @Test
    void zeroPrefixHoldsEveryAddressOfItsFamilyAndNoneOfTheOther() throws Exception {
        assertThat(Cidr.parse("0.0.0.0/0").contains(ip("198.51.100.7"))).isTrue();
        assertThat(Cidr.parse("0.0.0.0/0").contains(ip("2001:db8::1"))).isFalse();
        assertThat(Cidr.parse("::/0").contains(ip("2001:db8::1"))).isTrue();
        assertThat(Cidr.parse("::/0").contains(ip("198.51.100.7"))).isFalse();
    }

    @Test
    void anIpv4MappedIpv6AddressCountsAsItsIpv4Address() {
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        mapped[12] = (byte) 198;
        mapped[13] = 51;
        mapped[14] = 100;
        mapped[15] = 7;
        assertThat(Cidr.parse("198.51.100.0/24").contains(mapped)).isTrue();
        assertThat(Cidr.parse("203.0.113.0/24").contains(mapped)).isFalse();
    }

    @Test
    void textIsCanonicalWithHostBitsCleared() {
        assertThat(Cidr.parse("10.1.2.3/8")).hasToString("10.0.0.0/8");
        assertThat(Cidr.parse("2001:DB8:0:0::1/32")).hasToString("2001:db8::/32");
        assertThat(Cidr.parse("10.1.2.3/8")).isEqualTo(Cidr.parse("10.0.0.0/8"))
                .hasSameHashCodeAs(Cidr.parse("10.0.0.0/8"));
        assertThat(Cidr.parse("10.0.0.0/8")).isNotEqualTo(Cidr.parse("10.0.0.0/9"));
        assertThat(Cidr.host(IpAddresses.parse("203.0.113.5"))).hasToString("203.0.113.5/32");
        assertThat(Cidr.host(IpAddresses.parse("2001:db8::5"))).hasToString("2001:db8::5/128");
    }

    @Test
    void badTextSaysWhy() {
        assertThatThrownBy(() -> Cidr.parse("10.0.0.1")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not a CIDR");
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/33")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("10.0.0.0/33");
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/8 -j ACCEPT")).isInstanceOf(IllegalArgumentException.class);
    }

    private static byte[] ip(String text) throws UnknownHostException {
        return InetAddress.getByName(text).getAddress();
    }
}
