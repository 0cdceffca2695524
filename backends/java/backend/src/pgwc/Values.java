package pgwc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.SQLException;
import java.sql.SQLXML;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import org.postgresql.util.PGInterval;
import org.postgresql.util.PGobject;

/**
 * The protocol's typed value encoding (PROTOCOL.md §3): JSON from the
 * client to the Java values the driver binds ({@link #decode}), and the
 * driver's Java values back to JSON ({@link #encode}).
 */
final class Values {
    static final long MAX_SAFE = (1L << 53) - 1;

    /** numeric NaN and ±Infinity, which BigDecimal cannot hold. */
    record SpecialNumeric(String text) {}

    /** An interval in microseconds. */
    record Interval(long micros) {}

    /** A json/jsonb document's text, kept verbatim. */
    record JsonText(String text) {}

    /** A float vector (pgvector). */
    record Vector(double[] values) {
        /** pgvector's text form, [1,0.5,-2], which it reads as input. */
        String text() {
            StringBuilder b = new StringBuilder("[");
            for (int i = 0; i < values.length; i++) {
                if (i > 0) {
                    b.append(',');
                }
                double v = values[i];
                if (v == Math.rint(v) && Math.abs(v) < 1e15) {
                    b.append((long) v);
                } else {
                    b.append(v);
                }
            }
            return b.append(']').toString();
        }
    }

    private static final Pattern INT8 = Pattern.compile("[+-]?[0-9]+");
    private static final Pattern FLOAT = Pattern.compile("[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?");
    private static final Pattern NUMERIC = Pattern.compile("NaN|[+-]?Infinity|[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?");
    private static final Pattern DATE = Pattern.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}");
    // java.time would also take a time without seconds; the protocol wants HH:MM:SS[.f].
    private static final Pattern TIME = Pattern.compile("[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?");
    private static final Pattern TIMESTAMP = Pattern.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?");
    private static final Pattern TIMESTAMPTZ = Pattern.compile(TIMESTAMP.pattern() + "(Z|[+-][0-9]{2}:[0-9]{2}(:[0-9]{2})?)");
    private static final Pattern UUID_TEXT = Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    private static final Pattern BASE64 = Pattern.compile("([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?");

    static final DateTimeFormatter DATE_OUT = DateTimeFormatter.ofPattern("uuuu-MM-dd");
    static final DateTimeFormatter TIMESTAMPTZ_OUT = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSSxxx");
    static final DateTimeFormatter TIMESTAMP_OUT = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS");
    static final DateTimeFormatter TIME_OUT = DateTimeFormatter.ofPattern("HH:mm:ss.SSSSSS");

    private Values() {}

    // ------------------------------------------------------------ decode

    /** Decodes one protocol value; a malformed one is a misuse Fail. */
    static Object decode(JsonNode v) {
        if (v == null || v.isNull()) {
            return null;
        }
        if (v.isBoolean()) {
            return v.booleanValue();
        }
        if (v.isTextual()) {
            return v.textValue();
        }
        if (v.isIntegralNumber()) {
            if (!v.canConvertToLong()) {
                throw Fail.misuse("integer " + v.asText() + " does not fit int8");
            }
            return v.longValue();
        }
        if (v.isNumber()) {
            return v.doubleValue();
        }
        if (v.isArray()) {
            throw Fail.misuse("a bare JSON array is not a value (arrays travel as $array, vectors as $vector): " + clip(v));
        }
        if (v.size() != 1) {
            throw Fail.misuse("a typed value has exactly one $tag: " + clip(v));
        }
        Map.Entry<String, JsonNode> e = v.fields().next();
        String tag = e.getKey();
        JsonNode body = e.getValue();
        try {
            return decodeTag(tag, body);
        } catch (Fail f) {
            throw f;
        } catch (RuntimeException ex) {
            throw Fail.misuse("malformed " + tag + " value " + clip(body) + ": " + ex.getMessage());
        }
    }

    private static Object decodeTag(String tag, JsonNode body) {
        switch (tag) {
            case "$array": {
                if (!body.isArray()) {
                    throw Fail.misuse("$array wants a JSON array, got " + clip(body));
                }
                List<Object> out = new ArrayList<>(body.size());
                int i = 0;
                for (JsonNode el : body) {
                    try {
                        out.add(decode(el));
                    } catch (Fail f) {
                        throw Fail.misuse("$array element " + i + ": " + f.getMessage());
                    }
                    i++;
                }
                return out;
            }
            case "$vector": {
                if (!body.isArray()) {
                    throw Fail.misuse("$vector wants a JSON array of numbers, got " + clip(body));
                }
                double[] out = new double[body.size()];
                for (int i = 0; i < out.length; i++) {
                    JsonNode el = body.get(i);
                    if (!el.isNumber()) {
                        throw Fail.misuse("$vector element " + i + " is not a number: " + clip(el));
                    }
                    out[i] = el.doubleValue();
                }
                return new Vector(out);
            }
            default:
                break;
        }
        if (!body.isTextual()) {
            throw Fail.misuse(tag + " wants a JSON string, got " + clip(body));
        }
        String s = body.textValue();
        switch (tag) {
            case "$int8":
                if (!INT8.matcher(s).matches()) {
                    throw Fail.misuse("$int8 " + quote(s) + " is not an integer");
                }
                BigInteger b = new BigInteger(s);
                if (b.bitLength() > 63) {
                    throw Fail.misuse("$int8 " + s + " is out of int8 range");
                }
                return b.longValue();
            case "$float8":
                switch (s) {
                    case "NaN":
                        return Double.NaN;
                    case "Infinity":
                        return Double.POSITIVE_INFINITY;
                    case "-Infinity":
                        return Double.NEGATIVE_INFINITY;
                    default:
                        if (!FLOAT.matcher(s).matches()) {
                            throw Fail.misuse("$float8 " + quote(s) + " is not a float (NaN, Infinity, -Infinity or a decimal number)");
                        }
                        return Double.parseDouble(s);
                }
            case "$numeric":
                if (!NUMERIC.matcher(s).matches()) {
                    throw Fail.misuse("$numeric " + quote(s) + " is not a decimal number");
                }
                if (s.endsWith("NaN") || s.endsWith("Infinity")) {
                    return new SpecialNumeric(s.startsWith("+") ? s.substring(1) : s);
                }
                return new BigDecimal(s);
            case "$bytes":
                if (!BASE64.matcher(s).matches()) {
                    throw Fail.misuse("$bytes is not standard base64 with padding");
                }
                return Base64.getDecoder().decode(s);
            case "$date":
                if (!DATE.matcher(s).matches()) {
                    throw Fail.misuse("$date " + quote(s) + ": want YYYY-MM-DD");
                }
                return LocalDate.parse(s, DateTimeFormatter.ISO_LOCAL_DATE);
            case "$timestamptz":
                if (!TIMESTAMPTZ.matcher(s).matches()) {
                    throw Fail.misuse("$timestamptz " + quote(s) + ": want RFC 3339 with an offset, e.g. 2026-01-02T03:04:05.123456+00:00");
                }
                return OffsetDateTime.parse(s, DateTimeFormatter.ISO_OFFSET_DATE_TIME);
            case "$timestamp":
                if (!TIMESTAMP.matcher(s).matches()) {
                    throw Fail.misuse("$timestamp " + quote(s) + ": want 2026-01-02T03:04:05.123456, without an offset");
                }
                return LocalDateTime.parse(s, DateTimeFormatter.ISO_LOCAL_DATE_TIME);
            case "$time":
                if (!TIME.matcher(s).matches()) {
                    throw Fail.misuse("$time " + quote(s) + ": want HH:MM:SS[.ffffff]");
                }
                return LocalTime.parse(s, DateTimeFormatter.ISO_LOCAL_TIME);
            case "$interval_us":
                if (!INT8.matcher(s).matches()) {
                    throw Fail.misuse("$interval_us " + quote(s) + ": want microseconds as an integer string");
                }
                return new Interval(Long.parseLong(s));
            case "$uuid":
                if (!UUID_TEXT.matcher(s).matches()) {
                    throw Fail.misuse("$uuid " + quote(s) + " is not a UUID (8-4-4-4-12 hex digits)");
                }
                return UUID.fromString(s);
            case "$json":
                try {
                    Json.parse(s);
                } catch (IOException ex) {
                    throw Fail.misuse("$json is not a JSON document: " + ex.getMessage().lines().findFirst().orElse(""));
                }
                return new JsonText(s);
            default:
                throw Fail.misuse("unknown value tag " + quote(tag));
        }
    }

    /** Decodes a JSON array of protocol values (statement parameters). */
    static List<Object> decodeList(JsonNode arr, String what) {
        if (arr == null || arr.isNull()) {
            return Collections.emptyList();
        }
        List<Object> out = new ArrayList<>(arr.size());
        int i = 0;
        for (Iterator<JsonNode> it = arr.elements(); it.hasNext(); i++) {
            JsonNode el = it.next();
            try {
                out.add(decode(el));
            } catch (Fail f) {
                throw Fail.misuse(what + " " + (i + 1) + ": " + f.getMessage());
            }
        }
        return out;
    }

    // ------------------------------------------------------------ encode

    /** Encodes a value the driver returned (or decode produced) as protocol JSON. */
    static JsonNode encode(Object v) {
        if (v == null) {
            return Json.NODES.nullNode();
        }
        if (v instanceof String s) {
            return Json.NODES.textNode(s);
        }
        if (v instanceof Boolean b) {
            return Json.NODES.booleanNode(b);
        }
        if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return Json.NODES.numberNode(((Number) v).intValue());
        }
        if (v instanceof Long l) {
            if (l > MAX_SAFE || l < -MAX_SAFE) {
                return tagged("$int8", Long.toString(l));
            }
            return Json.NODES.numberNode(l);
        }
        if (v instanceof Double || v instanceof Float) {
            return encodeFloat(((Number) v).doubleValue());
        }
        if (v instanceof BigDecimal d) {
            return tagged("$numeric", d.toPlainString());
        }
        if (v instanceof BigInteger b) {
            return b.bitLength() <= 63 ? encode(b.longValue()) : tagged("$numeric", b.toString());
        }
        if (v instanceof SpecialNumeric n) {
            return tagged("$numeric", n.text());
        }
        if (v instanceof byte[] b) {
            return tagged("$bytes", Base64.getEncoder().encodeToString(b));
        }
        if (v instanceof LocalDate d) {
            return tagged("$date", DATE_OUT.format(d));
        }
        if (v instanceof OffsetDateTime t) {
            return tagged("$timestamptz", TIMESTAMPTZ_OUT.format(t));
        }
        if (v instanceof Instant t) {
            return encode(t.atOffset(ZoneOffset.UTC));
        }
        if (v instanceof LocalDateTime t) {
            return tagged("$timestamp", TIMESTAMP_OUT.format(t));
        }
        if (v instanceof LocalTime t) {
            return tagged("$time", TIME_OUT.format(t));
        }
        if (v instanceof Interval iv) {
            return tagged("$interval_us", Long.toString(iv.micros()));
        }
        if (v instanceof PGInterval iv) {
            return tagged("$interval_us", Long.toString(micros(iv)));
        }
        if (v instanceof UUID u) {
            return tagged("$uuid", u.toString());
        }
        if (v instanceof JsonText j) {
            return tagged("$json", j.text());
        }
        if (v instanceof Vector vec) {
            ObjectNode o = Json.object();
            ArrayNode a = o.putArray("$vector");
            for (double d : vec.values()) {
                a.add(d);
            }
            return o;
        }
        if (v instanceof PGobject o) {
            // json/jsonb are read by column type (Rows); any other driver
            // object (pgvector's vector, inet, …) travels as its text.
            String type = o.getType();
            if ("json".equals(type) || "jsonb".equals(type)) {
                return o.getValue() == null ? Json.NODES.nullNode() : tagged("$json", o.getValue());
            }
            return o.getValue() == null ? Json.NODES.nullNode() : Json.NODES.textNode(o.getValue());
        }
        if (v instanceof List<?> list) {
            ObjectNode o = Json.object();
            ArrayNode a = o.putArray("$array");
            for (Object el : list) {
                a.add(encode(el));
            }
            return o;
        }
        if (v instanceof Object[] arr) {
            ObjectNode o = Json.object();
            ArrayNode a = o.putArray("$array");
            for (Object el : arr) {
                a.add(encode(el));
            }
            return o;
        }
        if (v instanceof SQLXML x) {
            try {
                return Json.NODES.textNode(x.getString());
            } catch (SQLException e) {
                throw new IllegalStateException("read xml: " + e.getMessage(), e);
            }
        }
        return Json.NODES.textNode(v.toString());
    }

    static JsonNode encodeFloat(double d) {
        if (Double.isNaN(d)) {
            return tagged("$float8", "NaN");
        }
        if (Double.isInfinite(d)) {
            return tagged("$float8", d > 0 ? "Infinity" : "-Infinity");
        }
        // Jackson writes Double.toString: always a point or an exponent.
        return Json.NODES.numberNode(d);
    }

    /** An interval in microseconds, months counted as 30 days (as psycopg does). */
    static long micros(PGInterval iv) {
        long days = ((long) iv.getYears() * 12 + iv.getMonths()) * 30 + iv.getDays();
        long secs = days * 86_400L + iv.getHours() * 3_600L + iv.getMinutes() * 60L + iv.getWholeSeconds();
        return secs * 1_000_000L + iv.getMicroSeconds();
    }

    /** The interval as the driver binds it: hours, minutes and seconds. */
    static PGInterval interval(Interval iv) {
        long us = iv.micros();
        long hours = us / 3_600_000_000L;
        us -= hours * 3_600_000_000L;
        long minutes = us / 60_000_000L;
        us -= minutes * 60_000_000L;
        if (hours > Integer.MAX_VALUE || hours < Integer.MIN_VALUE) {
            throw Fail.misuse("$interval_us " + iv.micros() + " is too large");
        }
        PGInterval out = new PGInterval();
        out.setHours((int) hours);
        out.setMinutes((int) minutes);
        // whole seconds and microseconds are kept apart by PGInterval.
        out.setSeconds(us / 1_000_000L + (us % 1_000_000L) / 1e6);
        return out;
    }

    static ObjectNode tagged(String tag, String body) {
        ObjectNode o = Json.object();
        o.put(tag, body);
        return o;
    }

    static String clip(JsonNode n) {
        String s = n.toString();
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }

    private static String quote(String s) {
        return Json.NODES.textNode(s.length() > 80 ? s.substring(0, 80) + "…" : s).toString();
    }
}
