package dev.railyard.cli.logging;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class LogSetupTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final Logger log = LoggerFactory.getLogger("dev.railyard.proxy.sync");

    @AfterEach
    void backToStderr() {
        LogSetup.configure(LogFormat.TEXT, 2);
    }

    @Test
    void jsonKeepsFieldsTypedAndClusterStringsEscaped() {
        LogSetup.configure(LogFormat.JSON, 2, out);

        log.atWarn().setMessage("skipped invalid object")
                .addKeyValue("object", "Service ns/\"evil\"\n{}")
                .addKeyValue("renderMs", 42L)
                .addKeyValue("ok", false)
                .addKeyValue("msg", "a field named like a fixed member")
                .log();

        String line = output().strip();
        assertThat(line).doesNotContain("\n");
        JsonObject json = JsonParser.parseString(line).getAsJsonObject();
        assertThat(json.get("level").getAsString()).isEqualTo("warn");
        assertThat(json.get("logger").getAsString()).isEqualTo("dev.railyard.proxy.sync");
        assertThat(json.get("msg").getAsString()).isEqualTo("skipped invalid object");
        assertThat(json.get("object").getAsString()).isEqualTo("Service ns/\"evil\"\n{}");
        assertThat(json.get("renderMs").getAsJsonPrimitive().isNumber()).isTrue();
        assertThat(json.get("renderMs").getAsLong()).isEqualTo(42);
        assertThat(json.get("ok").getAsJsonPrimitive().isBoolean()).isTrue();
        assertThat(json.get("field_msg").getAsString()).isEqualTo("a field named like a fixed member");
        assertThat(json.get("ts").getAsString()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
    }

    @Test
    void jsonCarriesTheStackTraceInOneMember() {
        LogSetup.configure(LogFormat.JSON, 2, out);

        log.error("sync hook failed", new IllegalStateException("boom"));

        JsonObject json = JsonParser.parseString(output().strip()).getAsJsonObject();
        assertThat(json.get("err").getAsString()).contains("IllegalStateException: boom", "at dev.railyard");
    }

    @Test
    void textQuotesValuesThatWouldOtherwiseSplitAField() {
        LogSetup.configure(LogFormat.TEXT, 2, out);

        log.atInfo().setMessage("synced").addKeyValue("family", "IPv4").addKeyValue("bytes", 2534)
                .addKeyValue("object", "Service ns/a b=c").addKeyValue("empty", "").log();

        assertThat(output().strip())
                .contains(" INFO  [", "] dev.railyard.proxy.sync: synced family=IPv4 bytes=2534 "
                        + "object=\"Service ns/a b=c\" empty=\"\"");
    }

    @Test
    void textKeepsAMultiLineMessageOnOneLine() {
        LogSetup.configure(LogFormat.TEXT, 2, out);

        log.warn("list/watch failed, will retry: {}", "Message: \nHTTP response code: 0\r\nHTTP response body: null");

        assertThat(output()).hasLineCount(1)
                .contains("will retry: Message: \\nHTTP response code: 0\\nHTTP response body: null");
    }

    @Test
    void informersStoppedOnShutdownLogNoErrors() {
        LogSetup.configure(LogFormat.TEXT, 2, out);
        Logger controller = LoggerFactory.getLogger("io.kubernetes.client.informer.cache.Controller");
        Logger processor = LoggerFactory.getLogger("io.kubernetes.client.informer.cache.ProcessorListener");

        controller.error("DefaultController#processLoop get interrupted {}", (Object) null);
        processor.error("processor interrupted: {}", (Object) null);
        controller.error("DefaultController#processLoop failed: {}", "a real failure");

        assertThat(output()).hasLineCount(1).contains("a real failure");
    }

    @Test
    void javaUtilLoggingOfLibrariesJoinsTheSameLinesAndLevels() {
        LogSetup.configure(LogFormat.TEXT, 2, out);
        java.util.logging.Logger grpc = java.util.logging.Logger.getLogger("io.grpc.netty.TcpMetrics");

        grpc.info("Epoll available during static init of TcpMetrics:true");
        grpc.warning("channel failed");

        assertThat(output()).hasLineCount(1).contains(" WARN  [", "] io.grpc.netty.TcpMetrics: channel failed");
    }

    @Test
    void verbosityFollowsKlogAndKeepsLibrariesQuiet() {
        Logger library = LoggerFactory.getLogger("io.kubernetes.client.informer.cache.ReflectorRunnable");
        LogSetup.configure(LogFormat.TEXT, 2, out);
        log.debug("hidden at 2");
        library.info("library info hidden");
        library.warn("library warning shown");
        log.info("info shown");

        LogSetup.configure(LogFormat.TEXT, 4, out);
        log.debug("debug shown at 4");
        log.trace("trace hidden at 4");

        assertThat(output()).contains("library warning shown", "info shown", "debug shown at 4")
                .doesNotContain("hidden");
    }

    private String output() {
        return out.toString(StandardCharsets.UTF_8);
    }
}
