package pgwc;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Replays a golden fixture (protocol/testdata/README.md): one session on a
 * fresh connection, each line sent as written and each response matched
 * against its pattern. The matching rules are the README's: exact keys,
 * "<any>", "<absent-or-any>", an error's "type" ignored unless given,
 * numbers by kind (integer or float) and value.
 */
final class FixtureReplay {
    static final String ANY = "<any>";
    static final String ABSENT_OR_ANY = "<absent-or-any>";
    static final int EXCHANGE_TIMEOUT_MS = 30_000;

    private FixtureReplay() {}

    /** Replays the fixture text over a connection to host:port; the mismatches, empty when it passed. */
    static List<String> replay(String file, String text, String host, int port) throws IOException {
        return replay(file, text, host, port, EXCHANGE_TIMEOUT_MS);
    }

    static List<String> replay(String file, String text, String host, int port, int timeoutMs) throws IOException {
        List<String> errs = new ArrayList<>();
        try (Socket s = new Socket(host, port)) {
            s.setSoTimeout(timeoutMs);
            InputStream in = new BufferedInputStream(s.getInputStream(), 1 << 16);
            OutputStream out = s.getOutputStream();
            int lineNo = 0;
            for (String line : text.split("\n")) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode ex = Json.parse(line);
                String where = file + ":" + lineNo + " (" + ex.path("name").asText() + ")";
                Thread writer = null;
                if (ex.has("send")) {
                    out.write(Json.bytes(ex.get("send")));
                    out.write('\n');
                    out.flush();
                } else if (ex.has("send_raw")) {
                    out.write((ex.get("send_raw").textValue() + "\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                } else if (ex.has("send_big")) {
                    byte[] big = bigLine(ex.get("send_big"));
                    // The backend may answer and close before reading it all.
                    writer = new Thread(() -> {
                        try {
                            out.write(big);
                            out.flush();
                        } catch (IOException ignored) {
                            // expected when the backend closes first
                        }
                    });
                    writer.setDaemon(true);
                    writer.start();
                } else {
                    errs.add(where + ": no send, send_raw or send_big");
                    return errs;
                }
                if (ex.has("expect")) {
                    byte[] resp = readLine(in);
                    if (resp == null) {
                        errs.add(where + ": no response: the connection closed");
                        return errs;
                    }
                    String got = new String(resp, StandardCharsets.UTF_8);
                    String why = match(ex.get("expect"), got);
                    if (why != null) {
                        errs.add(where + ": " + why + "\n  expected: " + ex.get("expect") + "\n  got:      " + clip(got));
                    }
                }
                if (ex.path("expect_close").asBoolean(false)) {
                    byte[] more;
                    try {
                        more = readLine(in);
                    } catch (SocketTimeoutException e) {
                        errs.add(where + ": the backend must close the connection; it was still open after " + timeoutMs + " ms");
                        return errs;
                    } catch (SocketException e) {
                        more = null; // a reset is a close
                    }
                    if (more != null) {
                        errs.add(where + ": the backend must close the connection, it sent " + clip(new String(more, StandardCharsets.UTF_8)));
                    }
                    return errs;
                }
                if (writer != null) {
                    try {
                        writer.join(timeoutMs);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        }
        return errs;
    }

    static byte[] bigLine(JsonNode b) {
        String head = b.get("head").textValue();
        String fill = b.get("fill").textValue();
        String tail = b.get("tail").textValue();
        int size = b.get("size").intValue();
        byte[] out = new byte[size];
        byte[] h = head.getBytes(StandardCharsets.UTF_8);
        byte[] t = tail.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(h, 0, out, 0, h.length);
        java.util.Arrays.fill(out, h.length, size - t.length - 1, (byte) fill.charAt(0));
        System.arraycopy(t, 0, out, size - t.length - 1, t.length);
        out[size - 1] = '\n';
        return out;
    }

    /** One line without its newline; null at the end of the stream. */
    static byte[] readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (;;) {
            int c = in.read();
            if (c < 0) {
                return null;
            }
            if (c == '\n') {
                return b.toByteArray();
            }
            b.write(c);
        }
    }

    /** Why response does not match pattern, or null when it does. */
    static String match(JsonNode pattern, String response) {
        JsonNode r;
        try {
            r = Json.parse(response);
        } catch (IOException e) {
            return "the response is not JSON: " + e.getMessage();
        }
        return match(pattern, r, "$", false);
    }

    private static String match(JsonNode p, JsonNode r, String at, boolean errorObject) {
        if (p.isTextual() && p.textValue().equals(ANY)) {
            return null;
        }
        if (p.isObject()) {
            if (!r.isObject()) {
                return at + ": want an object, got " + r;
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = p.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode want = e.getValue();
                if (want.isTextual() && want.textValue().equals(ABSENT_OR_ANY)) {
                    continue;
                }
                JsonNode got = r.get(e.getKey());
                if (got == null) {
                    return at + ": key \"" + e.getKey() + "\" is missing";
                }
                String why = match(want, got, at + "." + e.getKey(), at.equals("$") && e.getKey().equals("error"));
                if (why != null) {
                    return why;
                }
            }
            for (Iterator<String> it = r.fieldNames(); it.hasNext();) {
                String k = it.next();
                if (!p.has(k) && !(errorObject && k.equals("type"))) {
                    return at + ": unexpected key \"" + k + "\"";
                }
            }
            return null;
        }
        if (p.isArray()) {
            if (!r.isArray() || r.size() != p.size()) {
                return at + ": want an array of " + p.size() + ", got " + r;
            }
            for (int i = 0; i < p.size(); i++) {
                String why = match(p.get(i), r.get(i), at + "[" + i + "]", false);
                if (why != null) {
                    return why;
                }
            }
            return null;
        }
        if (p.isNumber()) {
            if (!r.isNumber()) {
                return at + ": want the number " + p + ", got " + r;
            }
            boolean pInt = p.isIntegralNumber();
            if (pInt != r.isIntegralNumber()) {
                return at + ": want " + p + " (" + (pInt ? "integer" : "float") + "), got " + r + " (" + (pInt ? "float" : "integer") + ")";
            }
            boolean same = pInt ? new BigInteger(p.asText()).equals(new BigInteger(r.asText()))
                    : Double.doubleToRawLongBits(p.doubleValue()) == Double.doubleToRawLongBits(r.doubleValue());
            return same ? null : at + ": want " + p + ", got " + r;
        }
        return p.equals(r) ? null : at + ": want " + p + ", got " + r;
    }

    private static String clip(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "…" : s;
    }
}
