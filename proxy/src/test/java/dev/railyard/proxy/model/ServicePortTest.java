package dev.railyard.proxy.model;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ServicePortTest {
    private static final ServicePortName WEB = ServicePortName.of("default", "web", "http", Protocol.TCP);

    @Test
    void loadBalancerSourcesAreRestrictedOnlyWithBothRangesAndLoadBalancerIps() {
        List<Cidr> ranges = List.of(Cidr.parse("198.51.100.0/24"));
        assertThat(ServicePort.builder(WEB, "10.96.0.10", 80).loadBalancerIps(List.of("203.0.113.5"))
                .loadBalancerSourceRanges(ranges).build().restrictsLoadBalancerSources()).isTrue();
        assertThat(ServicePort.builder(WEB, "10.96.0.10", 80).loadBalancerSourceRanges(ranges).build()
                .restrictsLoadBalancerSources()).as("no load-balancer IP of this family").isFalse();
        assertThat(ServicePort.builder(WEB, "10.96.0.10", 80).loadBalancerIps(List.of("203.0.113.5")).build()
                .restrictsLoadBalancerSources()).isFalse();
    }

    @Test
    void refusesSourceRangesOfTheOtherFamily() {
        assertThatThrownBy(() -> ServicePort.builder(WEB, "10.96.0.10", 80)
                .loadBalancerSourceRanges(List.of(Cidr.parse("2001:db8::/32"))).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("default/web:http")
                .hasMessageContaining("loadBalancerSourceRanges[0] 2001:db8::/32 is not of the cluster IP's family");
    }
}
