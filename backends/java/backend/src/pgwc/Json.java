package pgwc;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;

/** The one JSON mapper: strict reading (one value per line, no duplicate keys). */
final class Json {
    static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private Json() {}

    /** Parses one JSON document; an empty or malformed one is an IOException. */
    static JsonNode parse(byte[] data, int len) throws IOException {
        JsonNode n = MAPPER.readTree(data, 0, len);
        if (n == null || n.isMissingNode()) {
            throw new IOException("empty line");
        }
        return n;
    }

    static JsonNode parse(String text) throws IOException {
        JsonNode n = MAPPER.readTree(text);
        if (n == null || n.isMissingNode()) {
            throw new IOException("empty document");
        }
        return n;
    }

    static byte[] bytes(JsonNode n) {
        try {
            return MAPPER.writeValueAsBytes(n);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("encode JSON: " + e.getMessage(), e);
        }
    }

    static ObjectNode object() {
        return NODES.objectNode();
    }
}
