package dev.railyard.proxy.source.kubernetes;

import static dev.railyard.proxy.source.kubernetes.KubernetesSourceTest.service;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.railyard.proxy.source.ClusterEventHandler;
import dev.railyard.testkit.kubernetes.TestApiServer;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1EndpointSlice;
import io.kubernetes.client.openapi.models.V1Service;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class ApiClientsTest {
    @TempDir
    Path directory;

    private TestApiServer apiServer;

    @BeforeEach
    void startApiServer() throws Exception {
        apiServer = TestApiServer.start();
        apiServer.create(service("web"));
    }

    @AfterEach
    void stopApiServer() {
        apiServer.close();
    }

    @Test
    void kubeconfigClientTalksToTheServerWithItsCredentialsAndNoReadTimeout() throws Exception {
        Path kubeconfig = writeKubeconfig("railyard", apiServer.url());

        ApiClient client = ApiClients.fromKubeconfig(kubeconfig);

        assertThat(client.getReadTimeout()).isZero();
        assertThat(new CoreV1Api(client).listServiceForAllNamespaces().execute().getItems())
                .extracting(item -> item.getMetadata().getName()).containsExactly("web");
        assertThat(apiServer.lastAuthorization()).isEqualTo("Bearer node-token");
    }

    @Test
    void kubeconfigClientFeedsAKubernetesSource() throws Exception {
        ApiClient client = ApiClients.fromFlags(writeKubeconfig("railyard", apiServer.url()), null);
        CountDownLatch servicesSynced = new CountDownLatch(1);
        CountDownLatch webSeen = new CountDownLatch(1);

        try (KubernetesSource source = new KubernetesSource(client, new ClusterEventHandler() {
            @Override
            public void onServiceChange(V1Service oldService, V1Service service) {
                if (service != null && "web".equals(service.getMetadata().getName())) {
                    webSeen.countDown();
                }
            }

            @Override
            public void onEndpointSliceChange(V1EndpointSlice oldSlice, V1EndpointSlice slice) {
            }

            @Override
            public void onServicesSynced() {
                servicesSynced.countDown();
            }

            @Override
            public void onEndpointSlicesSynced() {
            }
        })) {
            source.start();
            assertThat(webSeen.await(15, TimeUnit.SECONDS)).isTrue();
            assertThat(servicesSynced.await(15, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void masterOverridesTheKubeconfigServer() throws Exception {
        Path kubeconfig = writeKubeconfig("railyard", "http://127.0.0.1:1");

        ApiClient client = ApiClients.fromFlags(kubeconfig, apiServer.url());

        assertThat(client.getBasePath()).isEqualTo(apiServer.url());
        assertThat(new CoreV1Api(client).listServiceForAllNamespaces().execute().getItems()).hasSize(1);
        assertThat(apiServer.lastAuthorization()).isEqualTo("Bearer node-token");
    }

    @Test
    void masterAloneGivesAnUnauthenticatedClient() throws Exception {
        ApiClient client = ApiClients.fromFlags(null, apiServer.url());

        assertThat(client.getReadTimeout()).isZero();
        assertThat(new CoreV1Api(client).listServiceForAllNamespaces().execute().getItems()).hasSize(1);
        assertThat(apiServer.lastAuthorization()).isNull();
    }

    @Test
    void missingKubeconfigIsNamed() {
        Path missing = directory.resolve("nowhere/kubeconfig");

        assertThatThrownBy(() -> ApiClients.fromFlags(missing, null))
                .isInstanceOf(ClientConfigException.class)
                .hasMessageContaining(missing.toString())
                .hasMessageContaining("no such file");
    }

    @Test
    void kubeconfigThatIsNotYamlIsNamed() throws Exception {
        Path broken = Files.writeString(directory.resolve("broken"), "clusters: [ {name: x\n  :: }}}\n");

        assertThatThrownBy(() -> ApiClients.fromKubeconfig(broken))
                .isInstanceOf(ClientConfigException.class)
                .hasMessageContaining(broken.toString())
                .hasMessageContaining("not a valid kubeconfig");
    }

    @Test
    void kubeconfigThatIsNotAMappingIsNamed() throws Exception {
        Path list = Files.writeString(directory.resolve("list"), "- just\n- a list\n");
        Path empty = Files.writeString(directory.resolve("empty"), "");

        assertThatThrownBy(() -> ApiClients.fromKubeconfig(list))
                .isInstanceOf(ClientConfigException.class)
                .hasMessageContaining(list.toString())
                .hasMessageContaining("expected a mapping");
        assertThatThrownBy(() -> ApiClients.fromKubeconfig(empty))
                .isInstanceOf(ClientConfigException.class)
                .hasMessageContaining(empty.toString())
                .hasMessageContaining("expected a mapping");
    }

    @Test
    void kubeconfigWhoseCurrentContextIsMissingIsNamed() throws Exception {
        Path kubeconfig = writeKubeconfig("elsewhere", apiServer.url());

        assertThatThrownBy(() -> ApiClients.fromKubeconfig(kubeconfig))
                .isInstanceOf(ClientConfigException.class)
                .hasMessageContaining(kubeconfig.toString())
                .hasMessageContaining("\"elsewhere\"");
    }

    @Test
    void kubeconfigReferringToAMissingCertificateIsNamed() throws Exception {
        Path kubeconfig = Files.writeString(directory.resolve("with-ca"), """
                apiVersion: v1
                kind: Config
                clusters:
                - name: test
                  cluster:
                    server: https://127.0.0.1:6443
                    certificate-authority: missing-ca.crt
                contexts:
                - name: railyard
                  context: {cluster: test, user: node}
                current-context: railyard
                users:
                - name: node
                  user: {token: node-token}
                """);

        assertThatThrownBy(() -> ApiClients.fromKubeconfig(kubeconfig))
                .isInstanceOf(ClientConfigException.class)
                .hasMessageContaining(kubeconfig.toString())
                .hasMessageContaining("missing-ca.crt");
    }

    @Test
    void masterThatIsNotAnHttpUrlIsNamed() {
        assertThatThrownBy(() -> ApiClients.fromFlags(null, "ftp://example.invalid"))
                .isInstanceOf(ClientConfigException.class)
                .hasMessageContaining("ftp://example.invalid");
        assertThatThrownBy(() -> ApiClients.fromMaster("not a url"))
                .isInstanceOf(ClientConfigException.class)
                .hasMessageContaining("not a url");
    }

    @Test
    void inClusterOutsideAPodSaysWhatIsMissing() {
        assertThatThrownBy(() -> ApiClients.inCluster(Map.of(), directory))
                .isInstanceOf(ClientConfigException.class)
                .hasMessageContaining("KUBERNETES_SERVICE_HOST");
    }

    @Test
    void outsideAPodTheErrorNamesTheCommandsOwnOptions() {
        assertThatThrownBy(() -> ApiClients.inCluster(Map.of(), directory,
                new ApiClients.FlagNames("--kubeconfig-file", "--kube-api-url")))
                .hasMessageStartingWith("neither --kubeconfig-file nor --kube-api-url was given and this is not a pod");
        assertThatThrownBy(() -> ApiClients.fromFlags(null, "ftp://example.invalid",
                new ApiClients.FlagNames("--kubeconfig-file", "--kube-api-url")))
                .hasMessageContaining("--kube-api-url");
    }

    @Test
    void inClusterWithoutATokenNamesTheTokenFile() {
        Map<String, String> environment = Map.of("KUBERNETES_SERVICE_HOST", "10.96.0.1", "KUBERNETES_SERVICE_PORT", "443");

        assertThatThrownBy(() -> ApiClients.inCluster(environment, directory))
                .isInstanceOf(ClientConfigException.class)
                .hasMessageContaining(directory.resolve("token").toString());
    }

    private Path writeKubeconfig(String currentContext, String server) throws Exception {
        return Files.writeString(directory.resolve("kubeconfig"), """
                apiVersion: v1
                kind: Config
                clusters:
                - name: test
                  cluster:
                    server: %s
                contexts:
                - name: railyard
                  context:
                    cluster: test
                    user: node
                current-context: %s
                users:
                - name: node
                  user:
                    token: node-token
                """.formatted(server, currentContext));
    }
}
