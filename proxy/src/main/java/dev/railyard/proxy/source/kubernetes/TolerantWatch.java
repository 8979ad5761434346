package dev.railyard.proxy.source.kubernetes;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.kubernetes.client.openapi.models.V1Status;
import io.kubernetes.client.util.Watch;
import io.kubernetes.client.util.Watchable;
import java.io.IOException;
import java.util.Iterator;
import java.util.function.Function;
import okhttp3.Call;
import okhttp3.ResponseBody;

/**
 * One watch stream, read line by line like client-java's {@link Watch} but with a reader that tolerates fields
 * newer than client-java's models ({@link TolerantJson} here, the overlay's sparse Node reader there). A Status
 * object (ERROR events) is read with {@link TolerantJson} and becomes the response's status. Failures carry
 * client-java's messages, which its reflector tells apart: an I/O error while waiting means a broken connection
 * (relist quietly), anything else is reported.
 */
public final class TolerantWatch<T> implements Watchable<T> {
    private final Call call;
    private final ResponseBody body;
    private final Function<JsonElement, T> objectReader;

    /** A watch whose objects {@link TolerantJson} reads into {@code objectType}. */
    TolerantWatch(Call call, ResponseBody body, Class<T> objectType) {
        this(call, body, object -> TolerantJson.<T>parse(object, objectType));
    }

    /**
     * A watch whose objects {@code objectReader} reads; it signals an object it cannot read by throwing
     * {@link IllegalStateException} or {@link JsonParseException}, which become a malformed-event failure.
     */
    public TolerantWatch(Call call, ResponseBody body, Function<JsonElement, T> objectReader) {
        this.call = call;
        this.body = body;
        this.objectReader = objectReader;
    }

    @Override
    public boolean hasNext() {
        try {
            return !body.source().exhausted();
        } catch (IOException e) {
            throw new RuntimeException("IO Exception during hasNext method.", e);
        }
    }

    @Override
    public Watch.Response<T> next() {
        String line;
        try {
            line = body.source().readUtf8Line();
        } catch (IOException e) {
            throw new RuntimeException("IO Exception during next method.", e);
        }
        if (line == null) {
            throw new RuntimeException("Null response from the server.");
        }
        try {
            JsonObject event = JsonParser.parseString(line).getAsJsonObject();
            String type = event.get("type").getAsString();
            JsonElement object = event.get("object");
            if (isStatus(object)) {
                return new Watch.Response<>(type, TolerantJson.<V1Status>parse(object, V1Status.class));
            }
            return new Watch.Response<>(type, objectReader.apply(object));
        } catch (JsonParseException | IllegalStateException | NullPointerException | UnsupportedOperationException e) {
            throw new RuntimeException("malformed watch event: " + abbreviate(line), e);
        }
    }

    @Override
    public Iterator<Watch.Response<T>> iterator() {
        return this;
    }

    @Override
    public void close() {
        call.cancel();
        body.close();
    }

    private static boolean isStatus(JsonElement object) {
        if (object == null || !object.isJsonObject()) {
            return false;
        }
        JsonElement kind = object.getAsJsonObject().get("kind");
        JsonElement apiVersion = object.getAsJsonObject().get("apiVersion");
        return kind != null && apiVersion != null && "Status".equals(kind.getAsString())
                && "v1".equals(apiVersion.getAsString());
    }

    private static String abbreviate(String line) {
        return line.length() <= 200 ? line : line.substring(0, 200) + "...";
    }
}
