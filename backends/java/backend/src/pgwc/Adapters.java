package pgwc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import org.postgresql.util.DriverInfo;

/**
 * The adapters this backend serves (manifest.json names them and their
 * capabilities; describe adds the driver versions found at run time).
 */
final class Adapters {
    /** One adapter: pgjdbc with these connection properties, pooled by HikariCP or not at all. */
    record Adapter(String name, boolean pooled, Map<String, String> properties) {
        Source open(Dsn dsn, int poolMax, String applicationName, Call call) throws Exception {
            Properties props = dsn.properties(applicationName, properties);
            if (!pooled) {
                return new BareConnections(dsn, props, poolMax);
            }
            String app = applicationName == null || applicationName.isEmpty() ? "" : "-" + applicationName;
            HikariSource h = new HikariSource(dsn, props, poolMax, "pgwc-" + name + app);
            try {
                h.awaitFilled(call);
            } catch (InterruptedException e) {
                h.close();
                throw e;
            }
            return h;
        }

        String driverVersion() {
            String v = "pgjdbc " + DriverInfo.DRIVER_VERSION;
            return pooled ? v + ", HikariCP " + hikariVersion() : v;
        }
    }

    static final Map<String, Adapter> ALL = new LinkedHashMap<>();

    static {
        // pgjdbc's defaults: extended protocol, prepareThreshold 5.
        ALL.put("pgjdbc", new Adapter("pgjdbc", true, Map.of()));
        ALL.put("pgjdbc-simple", new Adapter("pgjdbc-simple", true, Map.of("preferQueryMode", "simple")));
        // The FR-013 baseline: the same driver and settings as pgjdbc, no pool.
        ALL.put("pgjdbc-raw", new Adapter("pgjdbc-raw", false, Map.of()));
    }

    static final JsonNode MANIFEST = loadManifest();

    private Adapters() {}

    static Adapter get(String name) {
        Adapter a = ALL.get(name);
        if (a == null) {
            throw Fail.misuse("unknown adapter \"" + name + "\" (this backend serves " + String.join(", ", ALL.keySet()) + ")");
        }
        return a;
    }

    static String backendName() {
        return MANIFEST.path("backend").asText("java");
    }

    /** describe's answer: the manifest with each adapter's driver version. */
    static ObjectNode describe() {
        ObjectNode out = Json.object();
        out.put("backend", backendName());
        out.put("protocol", Session.PROTOCOL_VERSION);
        out.put("language", "Java " + Runtime.version());
        ArrayNode list = out.putArray("adapters");
        for (JsonNode a : MANIFEST.path("adapters")) {
            ObjectNode e = a.deepCopy();
            Adapter ad = ALL.get(a.path("name").asText());
            e.put("driver_version", ad == null ? "" : ad.driverVersion());
            list.add(e);
        }
        return out;
    }

    private static JsonNode loadManifest() {
        try (InputStream in = Adapters.class.getResourceAsStream("/manifest.json")) {
            if (in == null) {
                throw new IllegalStateException("manifest.json is not on the classpath");
            }
            return Json.MAPPER.readTree(in);
        } catch (IOException e) {
            throw new IllegalStateException("read manifest.json: " + e.getMessage(), e);
        }
    }

    private static String hikariVersion() {
        try (InputStream in = HikariDataSource.class.getResourceAsStream("/META-INF/maven/com.zaxxer/HikariCP/pom.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                return p.getProperty("version", "unknown");
            }
        } catch (IOException ignored) {
            // fall through
        }
        String v = HikariDataSource.class.getPackage().getImplementationVersion();
        return v == null ? "unknown" : v;
    }
}
