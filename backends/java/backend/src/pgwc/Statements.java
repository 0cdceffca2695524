package pgwc;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import org.postgresql.util.PGobject;

/**
 * execute, executemany and query on one java.sql.Connection, the way a
 * JDBC program does it: a PreparedStatement per call (pgjdbc caches the
 * server-side statement after prepareThreshold uses), parameters bound with
 * the setter for their Java type.
 */
final class Statements {
    private Statements() {}

    /** Runs sql once; the rows it affected, the rows it returned, or -1. */
    static long execute(Connection c, String sql, List<Object> params, Call call) throws SQLException {
        Placeholders.Converted q = Placeholders.convert(sql);
        q.check(params.size());
        try (PreparedStatement ps = c.prepareStatement(q.sql())) {
            bind(ps, q, params, c);
            boolean isResult = run(ps, call);
            long count = -1;
            for (;;) {
                if (isResult) {
                    try (ResultSet rs = ps.getResultSet()) {
                        long n = 0;
                        while (rs.next()) {
                            n++;
                        }
                        count = n;
                    }
                } else {
                    long u = ps.getLargeUpdateCount();
                    if (u == -1) {
                        break;
                    }
                    count = u;
                }
                isResult = ps.getMoreResults();
            }
            return count;
        }
    }

    /** Runs sql once per row through the driver's batch (executeLargeBatch); the total, or -1. */
    static long executeMany(Connection c, String sql, List<List<Object>> rows, Call call) throws SQLException {
        Placeholders.Converted q = Placeholders.convert(sql);
        for (List<Object> row : rows) {
            q.check(row.size());
        }
        if (rows.isEmpty()) {
            return 0;
        }
        try (PreparedStatement ps = c.prepareStatement(q.sql())) {
            for (List<Object> row : rows) {
                bind(ps, q, row, c);
                ps.addBatch();
            }
            call.running(ps);
            long[] counts;
            try {
                counts = ps.executeLargeBatch();
            } finally {
                call.running(null);
            }
            long total = 0;
            for (long n : counts) {
                if (n < 0) {
                    return -1; // SUCCESS_NO_INFO: the driver does not say
                }
                total += n;
            }
            return total;
        }
    }

    /**
     * Runs sql and returns a cursor over its first result; onEnd runs when the cursor ends.
     * fetchSize above 0 has pgjdbc fetch the rows that many at a time through a portal
     * (it does so only outside autocommit, which the caller arranges).
     */
    static Cursor query(Connection c, String sql, List<Object> params, Call call, Runnable onEnd, int fetchSize) throws SQLException {
        Placeholders.Converted q = Placeholders.convert(sql);
        q.check(params.size());
        PreparedStatement ps = c.prepareStatement(q.sql());
        try {
            if (fetchSize > 0) {
                ps.setFetchSize(fetchSize);
            }
            bind(ps, q, params, c);
            boolean isResult = run(ps, call);
            return new Cursor(ps, isResult ? ps.getResultSet() : null, onEnd);
        } catch (SQLException | RuntimeException e) {
            try {
                ps.close();
            } catch (SQLException ignored) {
                // the statement's error is the one to report
            }
            throw e;
        }
    }

    private static boolean run(PreparedStatement ps, Call call) throws SQLException {
        call.running(ps);
        try {
            return ps.execute();
        } finally {
            call.running(null);
        }
    }

    static void bind(PreparedStatement ps, Placeholders.Converted q, List<Object> params, Connection c) throws SQLException {
        int[] order = q.order();
        for (int j = 0; j < order.length; j++) {
            set(ps, j + 1, params.get(order[j]), c);
        }
    }

    /** Binds v with the setter a JDBC program would use for its Java type. */
    static void set(PreparedStatement ps, int i, Object v, Connection c) throws SQLException {
        if (v == null) {
            ps.setNull(i, Types.NULL); // type left to the server
        } else if (v instanceof Boolean b) {
            ps.setBoolean(i, b);
        } else if (v instanceof Long l) {
            // The protocol's integers have no width: the narrowest type that
            // holds the value, so int4 arguments (repeat(text, int)) resolve.
            if (l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE) {
                ps.setInt(i, l.intValue());
            } else {
                ps.setLong(i, l);
            }
        } else if (v instanceof Double d) {
            ps.setDouble(i, d);
        } else if (v instanceof String s) {
            ps.setString(i, s);
        } else if (v instanceof BigDecimal d) {
            ps.setBigDecimal(i, d);
        } else if (v instanceof Values.SpecialNumeric n) {
            PGobject o = new PGobject();
            o.setType("numeric");
            o.setValue(n.text());
            ps.setObject(i, o);
        } else if (v instanceof byte[] b) {
            ps.setBytes(i, b);
        } else if (v instanceof LocalDate || v instanceof LocalDateTime || v instanceof OffsetDateTime
                || v instanceof LocalTime || v instanceof UUID) {
            ps.setObject(i, v);
        } else if (v instanceof Values.Interval iv) {
            ps.setObject(i, Values.interval(iv));
        } else if (v instanceof Values.JsonText j) {
            ps.setObject(i, j.text(), Types.OTHER); // json or jsonb: the server decides
        } else if (v instanceof Values.Vector vec) {
            ps.setObject(i, vec.text(), Types.OTHER); // pgvector reads its text form
        } else if (v instanceof List<?> list) {
            ps.setArray(i, array(c, list));
        } else {
            throw Fail.misuse("cannot bind a " + v.getClass().getName());
        }
    }

    /** An SQL array of the list's element type (text when mixed or unknown). */
    private static java.sql.Array array(Connection c, List<?> list) throws SQLException {
        String type = null;
        for (Object el : list) {
            if (el == null) {
                continue;
            }
            String t = elementType(el);
            if (type == null) {
                type = t;
            } else if (!type.equals(t)) {
                type = "text";
            }
        }
        if (type == null) {
            type = "text";
        }
        // Typed Java arrays: pgjdbc has an encoder for each of these.
        Object[] out = switch (type) {
            case "int8" -> new Long[list.size()];
            case "float8" -> new Double[list.size()];
            case "bool" -> new Boolean[list.size()];
            case "bytea" -> new byte[list.size()][];
            case "numeric" -> list.stream().allMatch(e -> e == null || e instanceof BigDecimal) ? new BigDecimal[list.size()] : new String[list.size()];
            default -> new String[list.size()];
        };
        for (int k = 0; k < out.length; k++) {
            out[k] = element(list.get(k), out.getClass().getComponentType());
        }
        return c.createArrayOf(type, out);
    }

    private static String elementType(Object el) {
        if (el instanceof Long) {
            return "int8";
        }
        if (el instanceof Double) {
            return "float8";
        }
        if (el instanceof Boolean) {
            return "bool";
        }
        if (el instanceof BigDecimal || el instanceof Values.SpecialNumeric) {
            return "numeric";
        }
        if (el instanceof byte[]) {
            return "bytea";
        }
        if (el instanceof LocalDate) {
            return "date";
        }
        if (el instanceof OffsetDateTime) {
            return "timestamptz";
        }
        if (el instanceof LocalDateTime) {
            return "timestamp";
        }
        if (el instanceof LocalTime) {
            return "time";
        }
        if (el instanceof UUID) {
            return "uuid";
        }
        if (el instanceof Values.JsonText) {
            return "jsonb";
        }
        if (el instanceof Values.Interval) {
            return "interval";
        }
        return "text";
    }

    /** An element as the typed array holds it: itself, or its text. */
    private static Object element(Object el, Class<?> component) {
        if (el == null || component.isInstance(el)) {
            return el;
        }
        if (el instanceof Values.JsonText j) {
            return j.text();
        }
        if (el instanceof Values.Vector v) {
            return v.text();
        }
        if (el instanceof Values.Interval iv) {
            return iv.micros() + " microseconds";
        }
        if (el instanceof Values.SpecialNumeric n) {
            return n.text();
        }
        if (el instanceof List<?>) {
            throw Fail.misuse("nested $array parameters are not supported");
        }
        return el.toString();
    }
}
