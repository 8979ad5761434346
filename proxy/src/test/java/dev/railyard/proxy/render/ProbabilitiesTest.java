package dev.railyard.proxy.render;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class ProbabilitiesTest {

    /** go-probabilities.tsv holds fmt.Sprintf("%0.10f", 1.0/float64(n)) as Go printed it, n = 1..10000. */
    @Test
    void everyEndpointCountIsSpelledAsGoSpellsIt() throws IOException {
        Probabilities probabilities = new Probabilities();
        int checked = 0;
        try (InputStream in = getClass().getResourceAsStream("/kubeproxy-compat/go-probabilities.tsv");
             BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.startsWith("#")) {
                    continue;
                }
                String[] columns = line.split("\t");
                int n = Integer.parseInt(columns[0]);
                assertThat(probabilities.of(n)).as("1/%d", n).isEqualTo(columns[1]);
                checked++;
            }
        }
        assertThat(checked).isEqualTo(10_000);
    }

    @Test
    void exactTiesRoundToEvenAsInGoNotUpAsJavasFormatterDoes() {
        // 1/2048 = 0.00048828125 exactly: Go's %0.10f gives ...812, Java's %.10f would give ...813.
        assertThat(String.format(java.util.Locale.ROOT, "%.10f", 1.0 / 2048)).isEqualTo("0.0004882813");
        assertThat(new Probabilities().of(2048)).isEqualTo("0.0004882812");
    }

    @Test
    void masqueradeMarkIsSpelledAsKubeProxyPrintsIt() {
        assertThat(RenderConfig.goHexMark(14)).isEqualTo("0x00004000");
        assertThat(RenderConfig.goHexMark(0)).isEqualTo("0x00000001");
        assertThat(RenderConfig.goHexMark(31)).isEqualTo("0x80000000");
    }
}
