package dev.railyard.proxy.render;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class ChainSetTest {

    @Test
    void changesMakeANewSetAndLeaveTheOldOneAlone() {
        ChainSet before = ChainSet.wrap(new HashSet<>(Set.of("KUBE-SVC-A", "KUBE-SEP-1", "KUBE-SEP-2")));

        ChainSet after = before.with(List.of("KUBE-SEP-3"), List.of("KUBE-SEP-1"));

        assertThat(after).containsExactlyInAnyOrder("KUBE-SVC-A", "KUBE-SEP-2", "KUBE-SEP-3");
        assertThat(before).containsExactlyInAnyOrder("KUBE-SVC-A", "KUBE-SEP-1", "KUBE-SEP-2");
        assertThat(after.with(List.of("KUBE-SEP-1"), List.of("KUBE-SEP-3")))
                .isEqualTo(Set.of("KUBE-SVC-A", "KUBE-SEP-1", "KUBE-SEP-2"));
    }

    @Test
    void manyChangesBehaveLikeAPlainSetAcrossCompactions() {
        Random random = new Random(42);
        Set<String> expected = new HashSet<>();
        for (int i = 0; i < 2000; i++) {
            expected.add("KUBE-SEP-" + i);
        }
        ChainSet set = ChainSet.wrap(new HashSet<>(expected));
        for (int round = 0; round < 3000; round++) {
            List<String> come = new ArrayList<>();
            List<String> gone = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
                String name = "KUBE-SEP-" + random.nextInt(4000);
                if (expected.contains(name)) {
                    gone.add(name);
                } else {
                    come.add(name);
                }
            }
            gone.forEach(expected::remove);
            expected.addAll(come);
            set = set.with(come, gone);
        }
        assertThat(set).hasSameSizeAs(expected).isEqualTo(expected);
        assertThat(new HashSet<>(set)).isEqualTo(expected);
    }
}
