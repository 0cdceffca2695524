package pgwc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.reflect.Method;
import java.math.BigDecimal;
import java.sql.Array;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.postgresql.core.Field;
import org.postgresql.jdbc.PgResultSetMetaData;

/**
 * A result being read: its columns (name and server type) and rows,
 * encoded as protocol values as they are fetched. At the end of the rows,
 * or on close, the statement is closed and onEnd runs once (an engine's
 * cursor gives its connection back to the pool there).
 */
final class Cursor {
    private enum Kind { OBJECT, STRING, BYTES, DATE, TIMESTAMP, TIMESTAMPTZ, TIME, JSON, NUMERIC, INTERVAL, ARRAY }

    final ArrayNode columns;
    private final Statement statement;
    private final ResultSet rs;
    private final Kind[] kinds;
    private final String[] types;
    private final Runnable onEnd;
    private boolean ended;

    /** A cursor over rs (null: a statement without rows). */
    Cursor(Statement statement, ResultSet rs, Runnable onEnd) throws SQLException {
        this.statement = statement;
        this.rs = rs;
        this.onEnd = onEnd;
        this.columns = Json.NODES.arrayNode();
        if (rs == null) {
            kinds = new Kind[0];
            types = new String[0];
            end();
            return;
        }
        ResultSetMetaData md = rs.getMetaData();
        int n = md.getColumnCount();
        kinds = new Kind[n];
        types = new String[n];
        for (int i = 0; i < n; i++) {
            String type = typeName(md, i + 1);
            types[i] = type;
            kinds[i] = kindOf(type);
            ObjectNode col = columns.addObject();
            col.put("name", md.getColumnLabel(i + 1));
            col.put("type", type);
        }
    }

    /** The next row, or null at the end. */
    ArrayNode fetchOne() throws SQLException {
        if (ended) {
            return null;
        }
        if (!rs.next()) {
            end();
            return null;
        }
        return row();
    }

    /** Up to n rows (all of them when n < 0). */
    ArrayNode fetchMany(int n) throws SQLException {
        ArrayNode out = Json.NODES.arrayNode();
        while (n < 0 || out.size() < n) {
            ArrayNode r = fetchOne();
            if (r == null) {
                break;
            }
            out.add(r);
        }
        return out;
    }

    ArrayNode fetchAll() throws SQLException {
        return fetchMany(-1);
    }

    void close() {
        end();
    }

    private void end() {
        if (ended) {
            return;
        }
        ended = true;
        try {
            if (rs != null) {
                rs.close();
            }
            if (statement != null) {
                statement.close();
            }
        } catch (SQLException ignored) {
            // the connection may be gone already; it is released below anyway
        } finally {
            if (onEnd != null) {
                onEnd.run();
            }
        }
    }

    private ArrayNode row() throws SQLException {
        ArrayNode out = Json.NODES.arrayNode(kinds.length);
        for (int i = 0; i < kinds.length; i++) {
            out.add(value(i + 1, kinds[i]));
        }
        return out;
    }

    private JsonNode value(int col, Kind kind) throws SQLException {
        Object v;
        switch (kind) {
            case STRING -> v = rs.getString(col);
            case BYTES -> v = rs.getBytes(col);
            case JSON -> {
                String s = rs.getString(col);
                v = s == null ? null : new Values.JsonText(s);
            }
            case NUMERIC -> v = numeric(rs.getString(col));
            case DATE -> {
                LocalDate d = rs.getObject(col, LocalDate.class);
                v = d == LocalDate.MAX || d == LocalDate.MIN ? rs.getString(col) : d;
            }
            case TIMESTAMP -> {
                LocalDateTime t = rs.getObject(col, LocalDateTime.class);
                v = t == LocalDateTime.MAX || t == LocalDateTime.MIN ? rs.getString(col) : t;
            }
            case TIMESTAMPTZ -> {
                OffsetDateTime t = rs.getObject(col, OffsetDateTime.class);
                v = t == OffsetDateTime.MAX || t == OffsetDateTime.MIN ? rs.getString(col) : t;
            }
            case TIME -> v = rs.getObject(col, LocalTime.class);
            case ARRAY -> {
                Array a = rs.getArray(col);
                v = a == null ? null : array(a.getArray(), elementType(types[col - 1]));
            }
            default -> v = rs.getObject(col);
        }
        return Values.encode(v);
    }

    private static Object numeric(String s) {
        if (s == null) {
            return null;
        }
        if (s.equals("NaN") || s.endsWith("Infinity")) {
            return new Values.SpecialNumeric(s);
        }
        return new BigDecimal(s);
    }

    /** The driver's array as protocol values, element by element. */
    private static List<Object> array(Object arr, String base) {
        Object[] in = (Object[]) arr;
        List<Object> out = new ArrayList<>(in.length);
        for (Object el : in) {
            out.add(element(el, base));
        }
        return out;
    }

    private static Object element(Object el, String base) {
        if (el == null) {
            return null;
        }
        if (el instanceof Object[] nested) {
            return array(nested, base);
        }
        if (el instanceof java.sql.Timestamp t) {
            return base.equals("timestamptz") ? t.toInstant().atOffset(ZoneOffset.UTC) : t.toLocalDateTime();
        }
        if (el instanceof java.sql.Date d) {
            return d.toLocalDate();
        }
        if (el instanceof java.sql.Time t) {
            return t.toLocalTime();
        }
        if (el instanceof String s) {
            if (base.equals("json") || base.equals("jsonb")) {
                return new Values.JsonText(s);
            }
            if (base.equals("numeric")) {
                return numeric(s);
            }
        }
        return el;
    }

    private static String elementType(String arrayType) {
        return arrayType.startsWith("_") ? arrayType.substring(1) : arrayType;
    }

    private static Kind kindOf(String type) {
        if (type.startsWith("_")) {
            return Kind.ARRAY;
        }
        return switch (type) {
            case "timestamptz" -> Kind.TIMESTAMPTZ;
            case "timestamp" -> Kind.TIMESTAMP;
            case "date" -> Kind.DATE;
            case "time" -> Kind.TIME;
            case "json", "jsonb" -> Kind.JSON;
            case "numeric" -> Kind.NUMERIC;
            case "bytea" -> Kind.BYTES;
            case "interval" -> Kind.INTERVAL;
            // no protocol type of their own: their text, as the server writes it
            case "timetz", "money", "xml", "varbit", "bit" -> Kind.STRING;
            default -> Kind.OBJECT;
        };
    }

    // pgjdbc's public getColumnTypeName renames serial columns ("bigserial",
    // found by an extra catalogue query); the protocol wants the server's
    // type name, which pgjdbc keeps in the protected getPGType.
    private static final Method PG_TYPE;
    private static final Method FIELD;

    static {
        Method t = null;
        Method f = null;
        try {
            t = PgResultSetMetaData.class.getDeclaredMethod("getPGType", int.class);
            t.setAccessible(true);
            f = PgResultSetMetaData.class.getDeclaredMethod("getField", int.class);
            f.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            t = null;
            f = null;
        }
        PG_TYPE = t;
        FIELD = f;
    }

    static String typeName(ResultSetMetaData md, int col) throws SQLException {
        if (PG_TYPE != null && md.isWrapperFor(PgResultSetMetaData.class)) {
            PgResultSetMetaData pg = md.unwrap(PgResultSetMetaData.class);
            try {
                String name = (String) PG_TYPE.invoke(pg, col);
                if (name != null && !name.isEmpty()) {
                    return name;
                }
                Field field = (Field) FIELD.invoke(pg, col);
                return "oid:" + Integer.toUnsignedString(field.getOID());
            } catch (ReflectiveOperationException e) {
                if (e.getCause() instanceof SQLException s) {
                    throw s;
                }
            }
        }
        return md.getColumnTypeName(col);
    }
}
