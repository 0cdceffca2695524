package pgwc;

import java.sql.Connection;
import java.sql.SQLException;

/** Where an engine's connections come from: a pool, or one bare connection. */
interface Source {
    /** A connection for the caller alone until release; the wait is abortable through call. */
    Connection borrow(Call call) throws Exception;

    void release(Connection c);

    /** The class that hands out connections (engine.introspect's pool_class). */
    String poolClass();

    /** Closes every connection, idle or in use: the server sees none afterwards. */
    void close();

    /** The driver's own connection class behind c. */
    static String connectionClass(Connection c) throws SQLException {
        return c.isWrapperFor(org.postgresql.PGConnection.class)
                ? c.unwrap(org.postgresql.PGConnection.class).getClass().getName()
                : c.getClass().getName();
    }
}
