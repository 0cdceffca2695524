package pgwc;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;

import java.util.Map;
import java.util.Properties;
import org.junit.Test;

public class DsnTest {
    @Test
    public void splitsTheUrlIntoJdbcUrlAndProperties() {
        Dsn d = Dsn.parse("postgres://conformance:s%40cr%3At+x@postgres:5432/conformance?sslmode=disable&connect_timeout=5&application_name=x");
        assertEquals("jdbc:postgresql://postgres:5432/conformance", d.jdbcUrl());
        assertEquals("conformance", d.user());
        assertEquals("s@cr:t+x", d.password()); // a + stays a plus, as libpq reads it
        Properties p = d.properties("pgwc_app", Map.of("preferQueryMode", "simple"));
        assertEquals("disable", p.getProperty("sslmode"));
        assertEquals("5", p.getProperty("connectTimeout"));
        assertEquals("pgwc_app", p.getProperty("ApplicationName"));
        assertEquals("simple", p.getProperty("preferQueryMode"));
        assertNull(p.getProperty("password"));
    }

    @Test
    public void defaultsAndIpv6() {
        Dsn d = Dsn.parse("postgresql://u@[::1]/");
        assertEquals("jdbc:postgresql://[::1]:5432/u", d.jdbcUrl());
        assertNull(d.password());
        assertEquals("jdbc:postgresql://h:6543/my+db", Dsn.parse("postgres://u@h:6543/my%20db").jdbcUrl());
    }

    @Test
    public void neverPrintsThePassword() {
        Dsn d = Dsn.parse("postgres://u:hunter2@h/db");
        assertFalse(d.toString().contains("hunter2"));
        Fail f = assertThrows(Fail.class, () -> Dsn.parse("postgres://u:hunter2@h:notaport/db"));
        assertFalse(f.getMessage().contains("hunter2"));
        assertEquals(Fail.MISUSE, assertThrows(Fail.class, () -> Dsn.parse("mysql://u:hunter2@h/db")).category);
    }
}
