package dev.railyard.overlay.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class NetworkConfigTest {

    @Test
    void appliesFlannelDefaultsForALargeNetwork() {
        NetworkConfig c = NetworkConfig.parse("{\"Network\":\"10.244.0.0/16\",\"Backend\":{\"Type\":\"vxlan\"}}");
        assertThat(c.subnetLen()).isEqualTo(24);
        assertThat(Ip4Net.formatAddress(c.subnetMin())).isEqualTo("10.244.1.0");
        assertThat(Ip4Net.formatAddress(c.subnetMax())).isEqualTo("10.244.255.0");
        assertThat(c.subnetCount()).isEqualTo(255);
        assertThat(c.backend()).isEqualTo(new BackendConfig(BackendType.VXLAN, 1, 8472, false));
    }

    @Test
    void smallNetworkIsSplitInFour() {
        NetworkConfig c = NetworkConfig.parse("{\"Network\":\"10.0.0.0/26\",\"Backend\":{\"Type\":\"host-gw\"}}");
        assertThat(c.subnetLen()).isEqualTo(28);
        assertThat(c.subnetCount()).isEqualTo(3);
        assertThat(c.subnetAt(0)).isEqualTo(Ip4Net.parse("10.0.0.16/28"));
        assertThat(c.subnetAt(2)).isEqualTo(Ip4Net.parse("10.0.0.48/28"));
        assertThat(c.backend().type()).isEqualTo(BackendType.HOST_GW);
    }

    @Test
    void explicitFieldsAreHonoured() {
        NetworkConfig c = NetworkConfig.parse("""
                {"Network":"10.0.0.0/8","SubnetLen":20,"SubnetMin":"10.10.0.0","SubnetMax":"10.20.0.0",
                 "Backend":{"Type":"vxlan","VNI":42,"Port":4789,"DirectRouting":true}}""");
        assertThat(c.subnetLen()).isEqualTo(20);
        assertThat(c.subnetCount()).isEqualTo(((0x14 - 0x0a) << 4) + 1);
        assertThat(c.backend()).isEqualTo(new BackendConfig(BackendType.VXLAN, 42, 4789, true));
        assertThat(c.isAllocatable(Ip4Net.parse("10.10.0.0/20"))).isTrue();
        assertThat(c.isAllocatable(Ip4Net.parse("10.9.240.0/20"))).isFalse();
        assertThat(c.isAllocatable(Ip4Net.parse("10.10.0.0/24"))).isFalse();
        assertThat(c.indexOf(c.subnetAt(17))).isEqualTo(17);
    }

    @Test
    void slash8WithSlash24HoldsAllButTheFirst() {
        NetworkConfig c = NetworkConfig.parse("{\"Network\":\"10.0.0.0/8\",\"Backend\":{\"Type\":\"host-gw\"}}");
        assertThat(c.subnetCount()).isEqualTo(65535);
        assertThat(c.subnetAt(65534)).isEqualTo(Ip4Net.parse("10.255.255.0/24"));
    }

    @Test
    void roundTripsThroughJson() {
        NetworkConfig c = NetworkConfig.parse("{\"Network\":\"172.16.0.0/12\",\"SubnetLen\":26,\"Backend\":{\"Type\":\"vxlan\",\"VNI\":7}}");
        assertThat(NetworkConfig.parse(c.toJson())).isEqualTo(c);
    }

    @Test
    void badInputNamesTheField() {
        assertError("not json", "network config is not valid JSON: malformed JSON at line 1 column 6");
        assertError("{\"Network\":", "not valid JSON: unexpected end at line 1 column 12");
        assertError("[1]", "not a JSON object");
        assertError("{\"Backend\":{\"Type\":\"vxlan\"}}", "field Network: missing");
        assertError("{\"Network\":\"10.0.0.0\"}", "field Network: '10.0.0.0' is not a CIDR");
        assertError("{\"Network\":\"10.0.0.1/16\"}", "field Network: 10.0.0.1/16 has host bits set");
        assertError("{\"Network\":\"10.0.0.0/30\"}", "field Network: 10.0.0.0/30 is too small");
        assertError("{\"Network\":\"10.0.0.0/16\",\"SubnetLen\":17}", "field SubnetLen: /17 does not fit four");
        assertError("{\"Network\":\"10.0.0.0/16\",\"SubnetLen\":31}", "field SubnetLen: 31 must be in 1..30");
        assertError("{\"Network\":\"10.0.0.0/16\",\"SubnetLen\":\"24\"}", "field SubnetLen: expected a number");
        assertError("{\"Network\":\"10.0.0.0/16\",\"SubnetMin\":\"10.1.0.0\",\"SubnetMax\":\"10.0.5.0\"}",
                "field SubnetMin: 10.1.0.0 is not in the Network");
        assertError("{\"Network\":\"10.0.0.0/16\",\"SubnetMin\":\"10.0.1.5\"}", "field SubnetMin: 10.0.1.5 is not on a /24 boundary");
        assertError("{\"Network\":\"10.0.0.0/16\",\"SubnetMin\":\"10.0.9.0\",\"SubnetMax\":\"10.0.5.0\"}",
                "cannot hold one subnet");
        assertError("{\"Network\":\"10.0.0.0/16\",\"Backend\":{\"Type\":\"wireguard\"}}",
                "field Backend.Type: 'wireguard' is not supported (supported: host-gw, vxlan, udp)");
        assertError("{\"Network\":\"10.0.0.0/16\",\"Backend\":{}}", "field Backend.Type: missing");
        assertError("{\"Network\":\"10.0.0.0/16\",\"Backend\":{\"Type\":\"vxlan\",\"VNI\":16777216}}", "field Backend.VNI");
        assertError("{\"Network\":\"10.0.0.0/16\",\"Subnetlen\":24}", "field Subnetlen: unknown field");
        assertError("{\"Network\":\"10.0.0.0/16\",\"Backend\":{\"Type\":\"vxlan\",\"Vni\":5}}",
                "field Backend.Vni: unknown field for backend vxlan (known: DirectRouting, Port, Type, VNI); did you "
                        + "mean VNI?");
        assertError("{\"Network\":\"10.0.0.0/16\",\"Backend\":{\"Type\":\"vxlan\",\"DirectRouteing\":true}}",
                "field Backend.DirectRouteing: unknown field for backend vxlan");
        assertError("{\"Network\":\"10.0.0.0/16\",\"Backend\":{\"Type\":\"host-gw\",\"Port\":8472}}",
                "field Backend.Port: unknown field for backend host-gw (known: Type)");
        assertError("{\"Network\":\"10.0.0.0/16\",\"Backend\":{\"Type\":\"vxlan\",\"GBP\":true}}",
                "field Backend.GBP: flannel's vxlan option GBP is not supported by Railyard");
        assertError("{\"Network\":\"10.0.0.0/16\",\"EnableIPv6\":true}", "field IPv6Network: missing");
        assertError("{\"EnableIPv4\":false}", "both are false");
        assertError("{\"EnableIPv4\":false,\"EnableIPv6\":true,\"IPv6Network\":\"fd00::/48\"}",
                "field EnableIPv6: the udp backend carries IPv4 only");
        assertError("{\"EnableIPv4\":false,\"EnableIPv6\":true,\"IPv6Network\":\"fd00::1/48\",\"Backend\":{\"Type\":\"vxlan\"}}",
                "field IPv6Network: fd00::1/48 has host bits set");
        assertError("{\"EnableIPv4\":false,\"EnableIPv6\":true,\"IPv6Network\":\"fd00::/125\",\"Backend\":{\"Type\":\"vxlan\"}}",
                "field IPv6Network: fd00::/125 is too small");
        assertError("{\"EnableIPv4\":false,\"EnableIPv6\":true,\"IPv6Network\":\"fd00::/48\",\"IPv6SubnetLen\":49,"
                + "\"Backend\":{\"Type\":\"vxlan\"}}", "field IPv6SubnetLen: /49 does not fit four");
        assertError("{\"EnableIPv4\":false,\"EnableIPv6\":true,\"IPv6Network\":\"fd00::/48\",\"IPv6SubnetMin\":\"fd00:0:0:1::1\","
                + "\"Backend\":{\"Type\":\"vxlan\"}}", "field IPv6SubnetMin: fd00:0:0:1::1 is not on a /64 boundary");
        assertError("{\"Network\":\"10.0.0.0/16\",\"EnableNFTables\":\"yes\"}", "field EnableNFTables: expected true or false");
    }

    @Test
    void withoutBackendTheBackendIsUdpAsInFlannel() {
        NetworkConfig c = NetworkConfig.parse("{\"Network\":\"10.244.0.0/16\"}");
        assertThat(c.backend()).isEqualTo(new BackendConfig(BackendType.UDP, 1, 8285, false));
        assertThat(NetworkConfig.parse("{\"Network\":\"10.244.0.0/16\",\"Backend\":{\"Type\":\"udp\",\"Port\":9000}}")
                .backend().port()).isEqualTo(9000);
        assertThat(NetworkConfig.parse(c.toJson())).isEqualTo(c);
    }

    @Test
    void dualStackAppliesFlannelsIpv6Defaults() {
        NetworkConfig c = NetworkConfig.parse("""
                {"Network":"10.244.0.0/16","EnableIPv6":true,"IPv6Network":"fd00:10:244::/56","EnableNFTables":true,
                 "Backend":{"Type":"vxlan"}}""");
        assertThat(c.enableIPv4()).isTrue();
        assertThat(c.enableIPv6()).isTrue();
        assertThat(c.enableNFTables()).isTrue();
        assertThat(c.ipv6().subnetLen()).isEqualTo(64);
        assertThat(c.ipv6().subnetMin()).hasToString("fd00:10:244:1::");
        assertThat(c.ipv6().subnetMax()).hasToString("fd00:10:244:ff::");
        assertThat(c.ipv6().count()).isEqualTo(255);
        assertThat(c.ipv6().at(0)).isEqualTo(Ip6Net.parse("fd00:10:244:1::/64"));
        assertThat(c.ipv6().indexOf(Ip6Net.parse("fd00:10:244:2a::/64"))).isEqualTo(41);
        assertThat(c.ipv6().isAllocatable(Ip6Net.parse("fd00:10:244::/64"))).isFalse();
        assertThat(NetworkConfig.parse(c.toJson())).isEqualTo(c);

        // a network too small for /64s is split in four, as flannel does (prefix + 2)
        NetworkConfig small = NetworkConfig.parse("""
                {"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fd00::/120","Backend":{"Type":"host-gw"}}""");
        assertThat(small.enableIPv4()).isFalse();
        assertThat(small.network()).isNull();
        assertThat(small.ipv6().subnetLen()).isEqualTo(122);
        assertThat(small.ipv6().count()).isEqualTo(3);
        assertThat(small.ipv6().at(2)).isEqualTo(Ip6Net.parse("fd00::c0/122"));

        // huge ranges are indexed up to 2^62
        NetworkConfig huge = NetworkConfig.parse("""
                {"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fd00::/8","IPv6SubnetLen":126,"Backend":{"Type":"vxlan"}}""");
        assertThat(huge.ipv6().count()).isEqualTo(1L << 62);
    }

    private static void assertError(String json, String message) {
        assertThatThrownBy(() -> NetworkConfig.parse(json)).isInstanceOf(ConfigException.class).hasMessageContaining(message);
    }
}
