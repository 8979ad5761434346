package dev.railyard.proxy.source.kubernetes;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.util.ClientBuilder;
import io.kubernetes.client.util.Config;
import io.kubernetes.client.util.KubeConfig;
import io.kubernetes.client.util.credentials.TokenFileAuthentication;
import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Map;

/**
 * Builds API server clients the way kube-proxy picks its configuration: a kubeconfig file when one is given
 * (with {@code --master} overriding its server), else the {@code --master} URL alone, else the pod's service
 * account (in-cluster). Every client has no read timeout, because watches stay quiet for minutes.
 */
public final class ApiClients {
    private ApiClients() {
    }

    /** How a command names the two options in its errors: kube-proxy's, or flannel's for the overlay. */
    public record FlagNames(String kubeconfig, String master) {
        public static final FlagNames KUBE_PROXY = new FlagNames("--kubeconfig", "--master");
    }

    /**
     * @param kubeconfig the {@code --kubeconfig} file, or null
     * @param master the {@code --master} URL, or null
     */
    public static ApiClient fromFlags(Path kubeconfig, String master) throws ClientConfigException {
        return fromFlags(kubeconfig, master, FlagNames.KUBE_PROXY);
    }

    /** As {@link #fromFlags(Path, String)}, naming the options as {@code names} says. */
    public static ApiClient fromFlags(Path kubeconfig, String master, FlagNames names) throws ClientConfigException {
        if (kubeconfig != null) {
            return fromKubeconfig(kubeconfig, master, names.master());
        }
        if (master != null && !master.isBlank()) {
            return fromMaster(master, names.master());
        }
        return inCluster(System.getenv(), Paths.get(Config.SERVICEACCOUNT_ROOT), names);
    }

    public static ApiClient fromKubeconfig(Path kubeconfig) throws ClientConfigException {
        return fromKubeconfig(kubeconfig, null);
    }

    /** The kubeconfig's current context, its server replaced by {@code masterOverride} when that is given. */
    public static ApiClient fromKubeconfig(Path kubeconfig, String masterOverride) throws ClientConfigException {
        return fromKubeconfig(kubeconfig, masterOverride, FlagNames.KUBE_PROXY.master());
    }

    private static ApiClient fromKubeconfig(Path kubeconfig, String masterOverride, String masterFlag)
            throws ClientConfigException {
        KubeConfig config = readKubeconfig(kubeconfig);
        String what = "kubeconfig " + kubeconfig;
        try {
            ClientBuilder builder = ClientBuilder.kubeconfig(config);
            if (masterOverride != null && !masterOverride.isBlank()) {
                builder.setBasePath(checkedServerUrl(masterOverride, masterFlag));
            }
            return build(builder, what);
        } catch (IOException e) {
            throw new ClientConfigException(what + ": cannot read a file it refers to: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new ClientConfigException(what + ": unusable credentials or certificates: " + e, e);
        }
    }

    /** An unauthenticated client for {@code masterUrl}, as kube-proxy's {@code --master} without kubeconfig. */
    public static ApiClient fromMaster(String masterUrl) throws ClientConfigException {
        return fromMaster(masterUrl, FlagNames.KUBE_PROXY.master());
    }

    private static ApiClient fromMaster(String masterUrl, String flag) throws ClientConfigException {
        return build(new ClientBuilder().setBasePath(checkedServerUrl(masterUrl, flag)), flag + " " + masterUrl);
    }

    /** The pod's service account: {@code KUBERNETES_SERVICE_HOST/PORT} and the mounted token and CA. */
    public static ApiClient inCluster() throws ClientConfigException {
        return inCluster(System.getenv(), Paths.get(Config.SERVICEACCOUNT_ROOT));
    }

    static ApiClient inCluster(Map<String, String> environment, Path serviceAccountDirectory)
            throws ClientConfigException {
        return inCluster(environment, serviceAccountDirectory, FlagNames.KUBE_PROXY);
    }

    static ApiClient inCluster(Map<String, String> environment, Path serviceAccountDirectory, FlagNames names)
            throws ClientConfigException {
        String host = environment.get(Config.ENV_SERVICE_HOST);
        String port = environment.get(Config.ENV_SERVICE_PORT);
        if (host == null || host.isBlank() || port == null || port.isBlank()) {
            throw new ClientConfigException("neither " + names.kubeconfig() + " nor " + names.master()
                    + " was given and this is not a pod: "
                    + Config.ENV_SERVICE_HOST + " and " + Config.ENV_SERVICE_PORT + " are not both set");
        }
        String server;
        try {
            server = new URI("https", null, host, Integer.parseInt(port), null, null, null).toString();
        } catch (URISyntaxException | NumberFormatException e) {
            throw new ClientConfigException("in-cluster config: " + Config.ENV_SERVICE_HOST + "=" + host + " "
                    + Config.ENV_SERVICE_PORT + "=" + port + " do not make a URL", e);
        }
        Path token = serviceAccountDirectory.resolve("token");
        Path ca = serviceAccountDirectory.resolve("ca.crt");
        if (!Files.isReadable(token)) {
            throw new ClientConfigException("in-cluster config: service account token " + token + " is not readable");
        }
        byte[] caCertificate;
        try {
            caCertificate = Files.readAllBytes(ca);
        } catch (IOException e) {
            throw new ClientConfigException("in-cluster config: cannot read CA certificate " + ca + ": " + e, e);
        }
        // The token file is re-read periodically: bound service account tokens are rotated by the kubelet.
        ClientBuilder builder = new ClientBuilder()
                .setBasePath(server)
                .setCertificateAuthority(caCertificate)
                .setAuthentication(new TokenFileAuthentication(token.toString()));
        return build(builder, "in-cluster config (" + server + ", " + serviceAccountDirectory + ")");
    }

    private static KubeConfig readKubeconfig(Path file) throws ClientConfigException {
        String what = "kubeconfig " + file;
        KubeConfig config;
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            config = KubeConfig.loadKubeConfig(reader);
        } catch (NoSuchFileException e) {
            throw new ClientConfigException(what + ": no such file", e);
        } catch (IOException e) {
            throw new ClientConfigException(what + ": cannot read it: " + e, e);
        } catch (ClassCastException | NullPointerException e) {
            // client-java casts the document's parts blindly: an empty file, a list, a string where a list goes
            throw new ClientConfigException(what + ": not a valid kubeconfig: expected a mapping with "
                    + "clusters, contexts, users and current-context", e);
        } catch (RuntimeException e) {
            // snakeyaml's syntax errors, which say where
            throw new ClientConfigException(what + ": not a valid kubeconfig: " + e.getMessage(), e);
        }
        config.setFile(file.toAbsolutePath().toFile()); // certificate and key paths are relative to it
        String context = config.getCurrentContext();
        if (context == null || context.isBlank()) {
            throw new ClientConfigException(what + ": no current-context set");
        }
        boolean contextFound;
        try {
            contextFound = config.setContext(context);
        } catch (RuntimeException e) {
            throw new ClientConfigException(what + ": not a valid kubeconfig: " + e, e);
        }
        if (!contextFound) {
            throw new ClientConfigException(what + ": current-context \"" + context + "\" is not among its contexts");
        }
        String server = config.getServer();
        if (server == null || server.isBlank()) {
            throw new ClientConfigException(what + ": the cluster of context \"" + context + "\" has no server");
        }
        return config;
    }

    private static String checkedServerUrl(String url, String what) throws ClientConfigException {
        URI uri;
        try {
            uri = new URI(url.trim());
        } catch (URISyntaxException e) {
            throw new ClientConfigException(what + " " + url + " is not a URL: " + e.getMessage(), e);
        }
        if (!"https".equalsIgnoreCase(uri.getScheme()) && !"http".equalsIgnoreCase(uri.getScheme())
                || uri.getHost() == null) {
            throw new ClientConfigException(what + " " + url + " is not an http(s)://host[:port] URL");
        }
        return uri.toString();
    }

    private static ApiClient build(ClientBuilder builder, String what) throws ClientConfigException {
        try {
            return builder.setReadTimeout(Duration.ZERO).build();
        } catch (RuntimeException e) {
            throw new ClientConfigException(what + ": cannot build a client: " + e, e);
        }
    }
}
