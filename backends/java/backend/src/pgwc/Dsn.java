package pgwc;

import java.io.ByteArrayOutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The suite's postgres:// URL as pgjdbc wants it: a jdbc:postgresql:// URL
 * without credentials plus connection properties. Messages never quote the
 * URL: it carries the password.
 */
record Dsn(String host, int port, String database, String user, String password, Map<String, String> params) {

    static Dsn parse(String url) {
        int colon = url.indexOf("://");
        if (colon < 0) {
            throw Fail.misuse("DSN is not a postgres:// URL");
        }
        String scheme = url.substring(0, colon);
        if (!scheme.equals("postgres") && !scheme.equals("postgresql")) {
            throw Fail.misuse("DSN scheme " + scheme + ": want postgres://");
        }
        String rest = url.substring(colon + 3);
        String query = "";
        int q = rest.indexOf('?');
        if (q >= 0) {
            query = rest.substring(q + 1);
            rest = rest.substring(0, q);
        }
        int slash = rest.indexOf('/');
        String authority = slash < 0 ? rest : rest.substring(0, slash);
        String path = slash < 0 ? "" : decode(rest.substring(slash + 1));
        String user = "";
        String password = null;
        int at = authority.lastIndexOf('@');
        if (at >= 0) {
            String info = authority.substring(0, at);
            authority = authority.substring(at + 1);
            int c = info.indexOf(':');
            if (c >= 0) {
                user = decode(info.substring(0, c));
                password = decode(info.substring(c + 1));
            } else {
                user = decode(info);
            }
        }
        String host;
        String portText = "";
        if (authority.startsWith("[")) {
            int end = authority.indexOf(']');
            if (end < 0) {
                throw Fail.misuse("DSN: unterminated [IPv6] host");
            }
            host = authority.substring(1, end);
            String after = authority.substring(end + 1);
            if (after.startsWith(":")) {
                portText = after.substring(1);
            } else if (!after.isEmpty()) {
                throw Fail.misuse("DSN: malformed host and port");
            }
        } else {
            int c = authority.lastIndexOf(':');
            host = c >= 0 ? authority.substring(0, c) : authority;
            portText = c >= 0 ? authority.substring(c + 1) : "";
        }
        host = decode(host);
        int port = 5432;
        if (!portText.isEmpty()) {
            try {
                port = Integer.parseInt(portText);
            } catch (NumberFormatException e) {
                throw Fail.misuse("DSN: port " + portText + " is not a number");
            }
            if (port < 1 || port > 65535) {
                throw Fail.misuse("DSN: port " + port + " is out of range");
            }
        }
        if (host.isEmpty()) {
            host = "localhost";
        }
        Map<String, String> params = new LinkedHashMap<>();
        for (String kv : query.split("&")) {
            if (kv.isEmpty()) {
                continue;
            }
            int eq = kv.indexOf('=');
            params.put(decode(eq < 0 ? kv : kv.substring(0, eq)), eq < 0 ? "" : decode(kv.substring(eq + 1)));
        }
        String database = path.isEmpty() ? user : path;
        return new Dsn(host, port, database, user, password, params);
    }

    /** jdbc:postgresql://host:port/db — no credentials, no parameters. */
    String jdbcUrl() {
        String h = host.contains(":") ? "[" + host + "]" : host;
        // pgjdbc URL-decodes the database name (a + is a space).
        return "jdbc:postgresql://" + h + ":" + port + "/" + URLEncoder.encode(database, StandardCharsets.UTF_8);
    }

    /**
     * pgjdbc's connection properties for the URL's parameters (libpq names
     * mapped to pgjdbc's), then extra (the adapter's own), then
     * ApplicationName, which tags every server connection of an engine.
     */
    Properties properties(String applicationName, Map<String, String> extra) {
        Properties p = new Properties();
        for (Map.Entry<String, String> e : params.entrySet()) {
            switch (e.getKey()) {
                case "connect_timeout" -> p.setProperty("connectTimeout", e.getValue());
                case "application_name" -> p.setProperty("ApplicationName", e.getValue());
                default -> p.setProperty(e.getKey(), e.getValue());
            }
        }
        extra.forEach(p::setProperty);
        if (applicationName != null && !applicationName.isEmpty()) {
            p.setProperty("ApplicationName", applicationName);
        }
        return p;
    }

    /** Percent-decoding as libpq does it: a + stays a plus. */
    static String decode(String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < b.length; i++) {
            if (b[i] == '%' && i + 2 < b.length && hex(b[i + 1]) >= 0 && hex(b[i + 2]) >= 0) {
                out.write(hex(b[i + 1]) * 16 + hex(b[i + 2]));
                i += 2;
            } else {
                out.write(b[i]);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static int hex(byte c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    @Override
    public String toString() {
        // A record prints every component; this one must not print the password.
        return "Dsn[" + user + "@" + host + ":" + port + "/" + database + "]";
    }
}
