package dev.railyard.overlay.etcd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A throwaway PKI made with openssl: a CA, a server certificate for 127.0.0.1 and a client
 * certificate signed by it, plus a client certificate from an unrelated CA for negative tests.
 */
public record TlsFiles(Path dir, Path caCert, Path serverCert, Path serverKey, Path clientCert, Path clientKey,
                       Path rogueCert, Path rogueKey) {

    public static TlsFiles generate(Path dir) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        TlsFiles t = new TlsFiles(dir, dir.resolve("ca.pem"), dir.resolve("server.pem"), dir.resolve("server-key.pem"),
                dir.resolve("client.pem"), dir.resolve("client-key.pem"), dir.resolve("rogue.pem"), dir.resolve("rogue-key.pem"));
        Path ext = dir.resolve("server.ext");
        Files.writeString(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n");
        Path clientExt = dir.resolve("client.ext");
        Files.writeString(clientExt, "extendedKeyUsage=clientAuth\n");
        ca(dir, "ca", "railyard-test-ca");
        leaf(dir, "server", "ca", ext);
        leaf(dir, "client", "ca", clientExt);
        ca(dir, "rogue-ca", "some-other-ca");
        leaf(dir, "rogue", "rogue-ca", clientExt);
        return t;
    }

    private static void ca(Path dir, String name, String cn) throws IOException, InterruptedException {
        key(dir, name);
        run(dir, "openssl", "req", "-x509", "-new", "-key", name + "-key.pem", "-subj", "/CN=" + cn, "-days", "2",
                "-out", name + ".pem");
    }

    private static void leaf(Path dir, String name, String ca, Path ext) throws IOException, InterruptedException {
        key(dir, name);
        run(dir, "openssl", "req", "-new", "-key", name + "-key.pem", "-subj", "/CN=" + name, "-out", name + ".csr");
        run(dir, "openssl", "x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + "-key.pem",
                "-CAcreateserial", "-days", "2", "-extfile", ext.getFileName().toString(), "-out", name + ".pem");
    }

    private static void key(Path dir, String name) throws IOException, InterruptedException {
        // genpkey writes PKCS#8, which both etcd and netty read
        run(dir, "openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name + "-key.pem");
    }

    private static void run(Path dir, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(new ArrayList<>(List.of(cmd))).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
    }
}
