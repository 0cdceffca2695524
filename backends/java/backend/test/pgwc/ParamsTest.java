package pgwc;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

public class ParamsTest {
    private static void ok(String method, String params) throws Exception {
        Params.check(method, Json.parse(params));
    }

    private static void refused(String method, String params) throws Exception {
        Fail f = assertThrows(method + " " + params, Fail.class, () -> Params.check(method, Json.parse(params)));
        assertEquals(method + " " + params, Fail.PROTOCOL, f.category);
    }

    @Test
    public void requiredKeysMustBePresentTypedAndNotNull() throws Exception {
        ok("execute", "{\"on\":\"e1\",\"sql\":\"SELECT 1\"}");
        refused("execute", "{\"on\":\"e1\"}");
        refused("execute", "{\"on\":\"e1\",\"sql\":null}");
        refused("execute", "{\"on\":\"e1\",\"sql\":5}");
        refused("engine.bench", "{\"engine\":\"e1\",\"sql\":\"SELECT 1\",\"n\":1.5}");
        refused("engine.bench", "{\"engine\":\"e1\",\"sql\":\"SELECT 1\",\"n\":\"10\"}");
        refused("cancel", "{\"request\":-7}");
        ok("cancel", "{\"request\":0}");
        refused("hello", "{\"protocol\":\"1\"}");
    }

    @Test
    public void anOptionalKeyThatIsNullCountsAsAbsent() throws Exception {
        ok("query", "{\"on\":\"e1\",\"sql\":\"SELECT 1\",\"params\":null}");
        ok("engine.open", "{\"adapter\":\"a\",\"dsn\":\"d\",\"pool_max\":null}");
        refused("engine.open", "{\"adapter\":\"a\",\"dsn\":\"d\",\"pool_max\":\"2\"}");
        refused("process.memory", "{\"reset_peak\":\"yes\"}");
        ok("echo", "{\"value\":null}"); // a raw value: null is SQL NULL
        refused("echo", "{}");
    }

    @Test
    public void nestedShapesAreChecked() throws Exception {
        ok("executemany", "{\"on\":\"e1\",\"sql\":\"SELECT $1\",\"rows\":[[1],[2]]}");
        refused("executemany", "{\"on\":\"e1\",\"sql\":\"SELECT $1\",\"rows\":[1,2]}");
        ok("webapp.start", "{\"engine\":\"e1\",\"ports\":[8100]}");
        refused("webapp.start", "{\"engine\":\"e1\",\"ports\":\"8100\"}");
        ok("orm.run", "{\"engine\":\"e1\",\"table\":\"t\",\"ops\":[{\"op\":\"add\",\"row\":{\"id\":1,\"name\":\"a\",\"score\":null}}]}");
        refused("orm.run", "{\"engine\":\"e1\",\"table\":\"t\",\"ops\":[{\"op\":\"add\",\"row\":{\"id\":1,\"score\":1.5}}]}");
        Fail f = assertThrows(Fail.class, () -> Params.check("orm.run", Json.parse("{\"engine\":\"e1\",\"table\":\"t\",\"ops\":[{\"id\":1}]}")));
        assertTrue(f.getMessage(), f.getMessage().contains("\"op\""));
    }

    @Test
    public void everyProtocolMethodIsKnown() {
        for (String m : new String[] {"hello", "describe", "echo", "cancel", "engine.open", "engine.close", "engine.introspect",
            "engine.bench", "execute", "executemany", "query", "cursor.fetchone", "cursor.fetchmany", "cursor.fetchall",
            "cursor.close", "conn.acquire", "conn.release", "tx.begin", "tx.commit", "tx.rollback", "webapp.start", "orm.run",
            "probe.sync_misuse", "probe.missing_async_dependency", "process.memory"}) {
            assertTrue(m, Params.known(m));
        }
        assertTrue(!Params.known("no.such.method"));
    }
}
