package pgwc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * HikariCP with its defaults: a fixed-size pool (minimumIdle =
 * maximumPoolSize), 30 s connection timeout, fail-fast initialisation (a
 * bad DSN fails engine.open with the driver's own error). engine.open
 * returns once the pool holds its connections, the state a Java service
 * reaches at startup: Hikari opens them one at a time on its single
 * "connection adder" thread, so a burst of callers right after open would
 * otherwise time connection setup, not the pool.
 */
final class HikariSource implements Source {
    private final HikariDataSource ds;

    HikariSource(Dsn dsn, Properties props, int poolMax, String name) {
        HikariConfig cfg = new HikariConfig();
        cfg.setPoolName(name);
        cfg.setDriverClassName("org.postgresql.Driver");
        cfg.setJdbcUrl(dsn.jdbcUrl());
        cfg.setUsername(dsn.user());
        if (dsn.password() != null) {
            cfg.setPassword(dsn.password());
        }
        cfg.setDataSourceProperties(props);
        if (poolMax > 0) {
            cfg.setMaximumPoolSize(poolMax);
        }
        ds = new HikariDataSource(cfg);
    }

    /** Waits until the pool holds minimumIdle connections, the call is aborted, or 30 s pass. */
    void awaitFilled(Call call) throws InterruptedException {
        int want = ds.getMinimumIdle();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (ds.getHikariPoolMXBean().getTotalConnections() < want && !call.done() && System.nanoTime() < end) {
            Thread.sleep(5);
        }
    }

    @Override
    public Connection borrow(Call call) throws Exception {
        return call.waiting(ds::getConnection);
    }

    @Override
    public void release(Connection c) {
        try {
            c.close(); // back to the pool: Hikari rolls back and resets autocommit
        } catch (SQLException ignored) {
            // Hikari evicts a connection it cannot reset
        }
    }

    @Override
    public String poolClass() {
        return ds.getClass().getName();
    }

    @Override
    public void close() {
        ds.close();
    }
}
