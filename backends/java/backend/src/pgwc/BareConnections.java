package pgwc;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;

/**
 * No pool library: pool_max bare pgjdbc connections (DriverManager), opened
 * at engine.open and handed out in turn, last returned first out, with
 * nothing in between: no validation, no eviction, no state reset beyond
 * ending an open transaction. A connection found closed (the server ended
 * it) is replaced at the next borrow. The FR-013 baseline the pooled
 * adapters are timed against runs with pool_max 1: one bare connection.
 */
final class BareConnections implements Source {
    private static final long WAIT_SECONDS = 30;

    private final String url;
    private final Properties props;
    private final int max;
    private final LinkedBlockingDeque<Connection> idle = new LinkedBlockingDeque<>();
    private final Set<Connection> all = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    BareConnections(Dsn dsn, Properties props, int poolMax) throws SQLException {
        this.url = dsn.jdbcUrl();
        this.props = new Properties();
        this.props.putAll(props);
        this.props.setProperty("user", dsn.user());
        if (dsn.password() != null) {
            this.props.setProperty("password", dsn.password());
        }
        this.max = poolMax > 0 ? poolMax : 10;
        try {
            for (int i = 0; i < max; i++) {
                idle.add(connect());
            }
        } catch (SQLException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private Connection connect() throws SQLException {
        Connection c = DriverManager.getConnection(url, props);
        all.add(c);
        return c;
    }

    @Override
    public Connection borrow(Call call) throws Exception {
        Connection c = call.waiting(() -> idle.pollFirst(WAIT_SECONDS, TimeUnit.SECONDS));
        if (c == null) {
            throw new Fail(Fail.TIMEOUT, "no connection free within " + WAIT_SECONDS + " s (pool_max " + max + ")");
        }
        if (closed) {
            quietlyClose(c);
            throw Fail.misuse("the engine is closed");
        }
        if (c.isClosed()) {
            all.remove(c);
            try {
                c = connect();
            } catch (SQLException | RuntimeException e) {
                idle.addLast(c); // keep the slot: the next borrow tries again
                throw e;
            }
        }
        return c;
    }

    @Override
    public void release(Connection c) {
        try {
            if (!c.isClosed() && !c.getAutoCommit()) {
                c.rollback();
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            quietlyClose(c); // broken: replaced at its next borrow
        }
        if (closed) {
            quietlyClose(c);
        } else {
            idle.addFirst(c);
        }
    }

    @Override
    public String poolClass() {
        return getClass().getName();
    }

    @Override
    public void close() {
        closed = true;
        for (Connection c : all) {
            quietlyClose(c);
        }
        all.clear();
        idle.clear();
    }

    private static void quietlyClose(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // closing anyway
        }
    }
}
