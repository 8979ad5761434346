package dev.railyard.proxy.source.kubernetes;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import io.kubernetes.client.custom.IntOrString;
import io.kubernetes.client.openapi.JSON;
import java.io.Reader;
import java.lang.reflect.Type;
import java.time.OffsetDateTime;

/**
 * Reads API responses into client-java's model classes while ignoring fields the models do not know.
 *
 * <p>client-java's own JSON (27.0.0 as before) rejects a whole object, and with it the whole list, when the
 * API server sends one field newer than the client (kubernetes-client/java#3428, #4809). The API server may be
 * several minor versions ahead of kube-proxy, and Go clients ignore such fields; so must this one, or one new
 * Service field would stop every relist until the node is upgraded. Plain Gson binds the models' annotated
 * fields and skips the rest; only the types the generated code adapts specially need registering.
 */
final class TolerantJson {
    private static final Gson GSON = new GsonBuilder()
            .registerTypeAdapter(IntOrString.class, new IntOrString.IntOrStringAdapter())
            .registerTypeAdapter(OffsetDateTime.class, new JSON.OffsetDateTimeTypeAdapter().nullSafe())
            .create();

    private TolerantJson() {
    }

    static <T> T parse(Reader json, Type type) {
        return GSON.fromJson(json, type);
    }

    static <T> T parse(JsonElement json, Type type) {
        return GSON.fromJson(json, type);
    }
}
