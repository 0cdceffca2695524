package pgwc;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.sql.BatchUpdateException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.postgresql.util.PSQLException;

/** Maps what the driver or the pool threw onto the protocol's error object (PROTOCOL.md §2). */
final class Errors {
    private Errors() {}

    /** The error object for t: category, sqlstate ("" unless the server reported it), message, type. */
    static ObjectNode classify(Throwable t) {
        if (t instanceof Fail f) {
            return error(f.category, "", f.getMessage(), null);
        }
        String message = message(t);
        SQLException sq = sqlCause(t);
        if (sq == null) {
            String category;
            if (t instanceof IOException) {
                category = Fail.CONNECTION;
            } else if (t instanceof InterruptedException) {
                category = Fail.TIMEOUT;
            } else {
                category = Fail.MISUSE;
            }
            return error(category, "", message, t.getClass().getName());
        }
        // A batch reports the statement that failed as its next exception.
        if (sq instanceof BatchUpdateException && sq.getNextException() != null) {
            SQLException next = sq.getNextException();
            if (serverState(next) != null && serverState(sq) == null) {
                sq = next;
            }
        }
        String state = sq.getSQLState() == null ? "" : sq.getSQLState();
        String server = serverState(sq);
        // HikariCP's "request timed out" carries the last connection
        // failure's state; without one it is a pool wait that ran out.
        if (sq instanceof SQLTransientConnectionException && !state.startsWith("08") && !state.startsWith("28")) {
            return error(Fail.TIMEOUT, "", message, sq.getClass().getName());
        }
        return error(category(state, server != null), server == null ? "" : server, message, typeOf(t, sq));
    }

    /** The category of an SQLSTATE; fromServer says whether the server sent it. */
    static String category(String state, boolean fromServer) {
        if (state.startsWith("28")) {
            return "authentication";
        }
        if (state.equals("57014")) {
            return Fail.TIMEOUT;
        }
        if (state.startsWith("08") || state.equals("57P01") || state.equals("57P02") || state.equals("57P03")) {
            return Fail.CONNECTION;
        }
        // pgjdbc's own errors with a state (a closed statement, a bad
        // column index) are the caller's: only the server rejects SQL.
        return fromServer ? "sql" : Fail.MISUSE;
    }

    /** The SQLSTATE the server reported, or null when the driver made the error up. */
    static String serverState(SQLException e) {
        if (e instanceof PSQLException p && p.getServerErrorMessage() != null) {
            String s = p.getServerErrorMessage().getSQLState();
            return s != null ? s : p.getSQLState();
        }
        return null;
    }

    private static SQLException sqlCause(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof SQLException s) {
                return s;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return null;
    }

    private static String typeOf(Throwable t, SQLException sq) {
        return t == sq ? sq.getClass().getName() : t.getClass().getName() + " (" + sq.getClass().getName() + ")";
    }

    private static String message(Throwable t) {
        String m = t.getMessage();
        if (m == null || m.isEmpty()) {
            Throwable c = t.getCause();
            m = c != null && c.getMessage() != null ? c.getMessage() : t.getClass().getName();
        }
        return m;
    }

    static ObjectNode error(String category, String sqlstate, String message, String type) {
        ObjectNode e = Json.object();
        e.put("category", category);
        e.put("sqlstate", sqlstate);
        e.put("message", message);
        if (type != null) {
            e.put("type", type);
        }
        return e;
    }
}
