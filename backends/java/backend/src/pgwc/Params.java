package pgwc;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The params each method takes (protocol/messages.go is the reference):
 * a missing required key, a null where none is allowed or a value of the
 * wrong JSON type is a protocol error, found before any object is looked
 * up. Unknown keys are ignored.
 */
final class Params {
    enum Kind { STRING, INT, UINT, BOOL, NUMBER, VALUE, VALUES, ROWS, INTS, OBJECT, ORM_OPS, ORM_ROW }

    record Field(String name, Kind kind, boolean required, boolean nullable) {}

    static final Map<String, Field[]> METHODS = new LinkedHashMap<>();

    private static Field req(String name, Kind kind) {
        return new Field(name, kind, true, false);
    }

    private static Field opt(String name, Kind kind) {
        return new Field(name, kind, false, false);
    }

    static {
        Field engine = req("engine", Kind.STRING);
        Field cursor = req("cursor", Kind.STRING);
        Field conn = req("conn", Kind.STRING);
        Field tx = req("tx", Kind.STRING);
        Field[] probe = {req("adapter", Kind.STRING), opt("dsn", Kind.STRING), opt("profile", Kind.STRING)};
        METHODS.put("hello", new Field[] {req("protocol", Kind.INT), opt("client", Kind.STRING)});
        METHODS.put("describe", new Field[0]);
        METHODS.put("echo", new Field[] {new Field("value", Kind.VALUE, true, true)});
        METHODS.put("cancel", new Field[] {req("request", Kind.UINT)});
        METHODS.put("engine.open", new Field[] {req("adapter", Kind.STRING), req("dsn", Kind.STRING), opt("pool_max", Kind.INT),
            opt("application_name", Kind.STRING), opt("profile", Kind.STRING)});
        METHODS.put("engine.close", new Field[] {engine});
        METHODS.put("engine.introspect", new Field[] {engine});
        METHODS.put("engine.bench", new Field[] {engine, req("sql", Kind.STRING), req("n", Kind.INT)});
        Field[] statement = {req("on", Kind.STRING), req("sql", Kind.STRING), opt("params", Kind.VALUES)};
        METHODS.put("execute", statement);
        METHODS.put("query", new Field[] {req("on", Kind.STRING), req("sql", Kind.STRING), opt("params", Kind.VALUES), opt("stream", Kind.BOOL)});
        METHODS.put("executemany", new Field[] {req("on", Kind.STRING), req("sql", Kind.STRING), req("rows", Kind.ROWS)});
        METHODS.put("cursor.fetchone", new Field[] {cursor});
        METHODS.put("cursor.fetchmany", new Field[] {cursor, req("n", Kind.INT)});
        METHODS.put("cursor.fetchall", new Field[] {cursor});
        METHODS.put("cursor.close", new Field[] {cursor});
        METHODS.put("conn.acquire", new Field[] {engine});
        METHODS.put("conn.release", new Field[] {conn});
        METHODS.put("tx.begin", new Field[] {conn});
        METHODS.put("tx.commit", new Field[] {tx});
        METHODS.put("tx.rollback", new Field[] {tx});
        METHODS.put("webapp.start", new Field[] {engine, opt("search_sql", Kind.STRING), opt("ports", Kind.INTS)});
        METHODS.put("orm.run", new Field[] {engine, req("table", Kind.STRING), req("ops", Kind.ORM_OPS)});
        METHODS.put("probe.sync_misuse", probe);
        METHODS.put("probe.missing_async_dependency", probe);
        METHODS.put("process.memory", new Field[] {opt("reset_peak", Kind.BOOL)});
    }

    private static final Field[] ORM_OP = {req("op", Kind.STRING), opt("id", Kind.INT), opt("row", Kind.ORM_ROW), opt("set", Kind.OBJECT)};
    private static final Field[] ORM_ROW = {req("id", Kind.INT), req("name", Kind.STRING), new Field("score", Kind.NUMBER, true, true)};

    private Params() {}

    static boolean known(String method) {
        return METHODS.containsKey(method);
    }

    /** Checks params (an object) against method's fields; a Fail with category protocol if they do not fit. */
    static void check(String method, JsonNode params) {
        check(METHODS.get(method), params, "");
    }

    private static void check(Field[] fields, JsonNode obj, String where) {
        for (Field f : fields) {
            JsonNode v = obj.get(f.name());
            if (v == null) {
                if (f.required()) {
                    throw Fail.protocol("missing parameter \"" + f.name() + "\"" + where);
                }
                continue;
            }
            if (v.isNull()) {
                // an optional key that is null counts as absent (PROTOCOL.md §2)
                if (!f.nullable() && f.required()) {
                    throw Fail.protocol("parameter \"" + f.name() + "\"" + where + " must not be null");
                }
                continue;
            }
            if (!fits(f.kind(), v, f.name() + where)) {
                throw Fail.protocol("parameter \"" + f.name() + "\"" + where + " must be " + describe(f.kind()) + ", got " + Values.clip(v));
            }
        }
    }

    private static boolean fits(Kind kind, JsonNode v, String where) {
        switch (kind) {
            case STRING:
                return v.isTextual();
            case INT:
                return v.isIntegralNumber() && v.canConvertToLong();
            case UINT:
                return v.isIntegralNumber() && v.canConvertToLong() && v.longValue() >= 0;
            case BOOL:
                return v.isBoolean();
            case NUMBER:
                return v.isNumber();
            case VALUE:
                return true;
            case VALUES:
                return v.isArray();
            case OBJECT:
                return v.isObject();
            case INTS:
                if (!v.isArray()) {
                    return false;
                }
                for (JsonNode el : v) {
                    if (!el.isIntegralNumber() || !el.canConvertToLong()) {
                        return false;
                    }
                }
                return true;
            case ROWS:
                if (!v.isArray()) {
                    return false;
                }
                for (JsonNode el : v) {
                    if (!el.isArray()) {
                        return false;
                    }
                }
                return true;
            case ORM_ROW:
                if (!v.isObject()) {
                    return false;
                }
                check(ORM_ROW, v, " in " + where);
                return true;
            case ORM_OPS:
                if (!v.isArray()) {
                    return false;
                }
                int i = 0;
                for (Iterator<JsonNode> it = v.elements(); it.hasNext(); i++) {
                    JsonNode op = it.next();
                    if (!op.isObject()) {
                        return false;
                    }
                    check(ORM_OP, op, " in " + where + "[" + i + "]");
                }
                return true;
            default:
                return false;
        }
    }

    private static String describe(Kind kind) {
        return switch (kind) {
            case STRING -> "a string";
            case INT -> "an integer";
            case UINT -> "a non-negative integer";
            case BOOL -> "a boolean";
            case NUMBER -> "a number";
            case VALUE -> "a value";
            case VALUES -> "an array of values";
            case ROWS -> "an array of arrays of values";
            case INTS -> "an array of integers";
            case OBJECT, ORM_ROW -> "an object";
            case ORM_OPS -> "an array of objects";
        };
    }
}
