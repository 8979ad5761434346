package dev.railyard.proxy.source;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonSyntaxException;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import io.kubernetes.client.custom.IntOrString;

import java.io.IOException;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Binds JSON to client-java's model classes. client-java's own Gson rejects any field its model does not know,
 * which would make one newer API field break a whole cluster dump; this binding ignores unknown fields, as the
 * API server's clients are expected to, and reports type errors with the path of the field.
 */
final class KubeObjects {
    private static final Pattern GSON_PATH = Pattern.compile("path \\$\\.?(\\S*)");
    private static final Gson GSON = new GsonBuilder()
            .registerTypeAdapter(IntOrString.class, new StrictIntOrStringAdapter().nullSafe())
            .registerTypeAdapter(OffsetDateTime.class, new LenientTimestampAdapter().nullSafe())
            .registerTypeAdapter(Integer.class, new StrictIntegerAdapter().nullSafe())
            .registerTypeAdapter(Boolean.class, new StrictBooleanAdapter().nullSafe())
            .create();

    private KubeObjects() {
    }

    static <T> T bind(JsonElement json, Class<T> type) throws InvalidFieldException {
        try {
            return GSON.fromJson(json, type);
        } catch (JsonParseException | IllegalStateException | NumberFormatException e) {
            String message = e.getMessage() == null ? e.toString() : e.getMessage();
            Matcher path = GSON_PATH.matcher(message);
            String field = path.find() ? path.group(1) : "";
            String reason = message;
            int at = reason.indexOf(" at line ");
            if (at < 0) {
                at = reason.indexOf(" at path ");
            }
            if (at > 0) {
                reason = reason.substring(0, at);
            }
            int colon = reason.lastIndexOf("Exception: ");
            if (colon >= 0) {
                reason = reason.substring(colon + "Exception: ".length());
            }
            throw new InvalidFieldException(field, reason.trim());
        }
    }

    /** Gson would coerce "80" and fail on "eighty" without saying where; the API accepts neither. */
    private static final class StrictIntegerAdapter extends TypeAdapter<Integer> {
        @Override
        public void write(JsonWriter out, Integer value) throws IOException {
            out.value(value);
        }

        @Override
        public Integer read(JsonReader in) throws IOException {
            JsonToken token = in.peek();
            String path = in.getPath();
            if (token != JsonToken.NUMBER) {
                String found = token == JsonToken.STRING ? "\"" + in.nextString() + "\"" : token.toString();
                throw new JsonSyntaxException("expected an integer but found " + found + " at path " + path);
            }
            String text = in.nextString();
            try {
                return Integer.valueOf(text);
            } catch (NumberFormatException e) {
                throw new JsonSyntaxException("expected an integer but found " + text + " at path " + path);
            }
        }
    }

    /**
     * A port number or name (targetPort). client-java's adapter fails on null, which means "not set", and on a
     * wrong type without saying where.
     */
    private static final class StrictIntOrStringAdapter extends TypeAdapter<IntOrString> {
        private final StrictIntegerAdapter integers = new StrictIntegerAdapter();

        @Override
        public void write(JsonWriter out, IntOrString value) throws IOException {
            if (value.isInteger()) {
                out.value(value.getIntValue());
            } else {
                out.value(value.getStrValue());
            }
        }

        @Override
        public IntOrString read(JsonReader in) throws IOException {
            JsonToken token = in.peek();
            if (token == JsonToken.STRING) {
                return new IntOrString(in.nextString());
            }
            if (token == JsonToken.NUMBER) {
                return new IntOrString(integers.read(in));
            }
            throw new JsonSyntaxException("expected a port number or name but found " + token + " at path "
                    + in.getPath());
        }
    }

    /** Gson would read "yes" as false; a condition must be a real boolean. */
    private static final class StrictBooleanAdapter extends TypeAdapter<Boolean> {
        @Override
        public void write(JsonWriter out, Boolean value) throws IOException {
            out.value(value);
        }

        @Override
        public Boolean read(JsonReader in) throws IOException {
            JsonToken token = in.peek();
            String path = in.getPath();
            if (token != JsonToken.BOOLEAN) {
                String found = token == JsonToken.STRING ? "\"" + in.nextString() + "\"" : token.toString();
                throw new JsonSyntaxException("expected true or false but found " + found + " at path " + path);
            }
            return in.nextBoolean();
        }
    }

    /** Timestamps are metadata nobody here reads; a malformed one should not cost the object. */
    private static final class LenientTimestampAdapter extends TypeAdapter<OffsetDateTime> {
        @Override
        public void write(JsonWriter out, OffsetDateTime value) throws IOException {
            out.value(value.toString());
        }

        @Override
        public OffsetDateTime read(JsonReader in) throws IOException {
            if (in.peek() != JsonToken.STRING) {
                in.skipValue();
                return null;
            }
            try {
                return OffsetDateTime.parse(in.nextString());
            } catch (DateTimeParseException e) {
                return null;
            }
        }
    }
}
