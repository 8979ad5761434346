package dev.railyard.overlay.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.overlay.config.BackendType;
import dev.railyard.overlay.config.NetworkConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;
import picocli.CommandLine;

/** deploy/overlay stays usable: its net-conf.json parses and the DaemonSet's arguments are flags the command has. */
class DeployManifestsTest {
    private static final Path DEPLOY = Path.of("..", "deploy", "overlay");

    @Test
    @SuppressWarnings("unchecked")
    void configMapAndDaemonSetMatchTheCommand() throws Exception {
        Map<String, Object> configMap = new Yaml().load(Files.readString(DEPLOY.resolve("configmap.yaml")));
        String netConf = ((Map<String, String>) configMap.get("data")).get("net-conf.json");
        assertThat(NetworkConfig.parse(netConf).backend().type()).isEqualTo(BackendType.VXLAN);

        Map<String, Object> daemonSet = new Yaml().load(Files.readString(DEPLOY.resolve("daemonset.yaml")));
        Map<String, Object> podSpec = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) daemonSet
                .get("spec")).get("template")).get("spec");
        Map<String, Object> container = ((List<Map<String, Object>>) podSpec.get("containers")).get(0);
        List<String> args = (List<String>) container.get("args");
        assertThat(args.get(0)).isEqualTo("overlay");
        OverlayCommand command = new OverlayCommand();
        new CommandLine(command).parseArgs(args.subList(1, args.size()).toArray(String[]::new));
        assertThat(command.kubeSubnetMgr).isTrue();
        assertThat(command.ipMasq).isTrue();
        String mount = ((List<Map<String, String>>) container.get("volumeMounts")).stream()
                .filter(m -> m.get("name").equals("net-conf")).findFirst().orElseThrow().get("mountPath");
        assertThat(command.netConfigPath).isEqualTo(Path.of(mount, "net-conf.json"));
        assertThat(((List<Map<String, Object>>) container.get("env")).get(0)).containsEntry("name", "NODE_NAME");
        assertThat(podSpec).containsEntry("serviceAccountName", "railyard-overlay").containsEntry("hostNetwork", true);
    }
}
