package pgwc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One client connection (PROTOCOL.md): reads requests line by line, runs
 * each on the shared executor — requests on one connection, transaction or
 * cursor one at a time in arrival order, everything else concurrently —
 * and answers in whatever order they finish. The objects it creates belong
 * to it and are closed when the client goes away.
 */
final class Session implements Runnable {
    static final int PROTOCOL_VERSION = 1;
    static final int MAX_MESSAGE = 16 * 1024 * 1024;
    private static final long CLOSE_WAIT_MS = 10_000;

    private abstract static class Obj {
        String id;
        SerialQueue queue; // null: requests on it run concurrently (engines)

        abstract String kind();
    }

    private static final class EngineObj extends Obj {
        final Adapters.Adapter adapter;
        final Source source;

        EngineObj(Adapters.Adapter adapter, Source source) {
            this.adapter = adapter;
            this.source = source;
        }

        String kind() {
            return "engine";
        }
    }

    private static final class ConnObj extends Obj {
        final EngineObj engine;
        final Connection conn;
        TxObj tx; // touched on this connection's queue only
        final Set<CursorObj> cursors = ConcurrentHashMap.newKeySet();

        ConnObj(EngineObj engine, Connection conn, SerialQueue queue) {
            this.engine = engine;
            this.conn = conn;
            this.queue = queue;
        }

        String kind() {
            return "connection";
        }
    }

    private static final class TxObj extends Obj {
        final ConnObj conn;

        TxObj(ConnObj conn) {
            this.conn = conn;
            this.queue = conn.queue;
        }

        String kind() {
            return "transaction";
        }
    }

    private static final class CursorObj extends Obj {
        final Cursor cursor;
        final ConnObj owner; // null for an engine's cursor, which holds its own connection
        final EngineObj engine;

        CursorObj(Cursor cursor, ConnObj owner, EngineObj engine, SerialQueue queue) {
            this.cursor = cursor;
            this.owner = owner;
            this.engine = engine;
            this.queue = queue;
        }

        String kind() {
            return "cursor";
        }
    }

    private final Socket socket;
    private final OutputStream out;
    private final ExecutorService executor;
    private final Watchdog watchdog;
    private final Object writeLock = new Object();
    private final ConcurrentHashMap<Long, Call> inflight = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Obj> objects = new ConcurrentHashMap<>();
    private final AtomicLong seq = new AtomicLong();
    /**
     * The objects made by the last requests answered, by request id. A
     * client whose caller gives up just as the answer arrives drops the
     * answer and sends cancel: the cursor or connection it never learnt of
     * must not hold a pooled connection until the session ends.
     */
    private final Map<Long, List<String>> recentlyCreated = Collections.synchronizedMap(new LinkedHashMap<>() {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, List<String>> eldest) {
            return size() > 256;
        }
    });
    private volatile boolean helloDone;
    private volatile boolean closed;

    Session(Socket socket, ExecutorService executor, Watchdog watchdog) throws IOException {
        this.socket = socket;
        this.out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
        this.executor = executor;
        this.watchdog = watchdog;
    }

    @Override
    public void run() {
        try {
            socket.setTcpNoDelay(true);
            InputStream in = socket.getInputStream();
            LineReader reader = new LineReader(in, MAX_MESSAGE);
            for (;;) {
                try {
                    if (!reader.next()) {
                        break;
                    }
                } catch (LineReader.TooLarge e) {
                    send(noId(e.getMessage() + "; closing the connection"));
                    drainAndClose(in);
                    break;
                }
                handleLine(reader.bytes(), reader.length());
            }
        } catch (IOException e) {
            // the client went away
        } finally {
            closeAll();
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    // ------------------------------------------------------------ framing

    private void handleLine(byte[] line, int len) {
        JsonNode req;
        try {
            req = Json.parse(line, len);
        } catch (IOException e) {
            send(noId("malformed request: " + firstLine(e.getMessage())));
            return;
        }
        if (!req.isObject()) {
            send(noId("malformed request: a request is a JSON object"));
            return;
        }
        JsonNode idNode = req.get("id");
        if (idNode == null || !idNode.isIntegralNumber() || !idNode.canConvertToLong() || idNode.longValue() < 0) {
            send(noId("malformed request: a request has a non-negative integer id"));
            return;
        }
        long id = idNode.longValue();
        if (inflight.containsKey(id)) {
            sendError(id, Errors.error(Fail.PROTOCOL, "", "request id " + id + " is already in flight", null));
            return;
        }
        JsonNode methodNode = req.get("method");
        if (methodNode == null || !methodNode.isTextual()) {
            sendError(id, Errors.error(Fail.PROTOCOL, "", "a request needs a method (a string)", null));
            return;
        }
        String method = methodNode.textValue();
        if (!Params.known(method)) {
            sendError(id, Errors.error(Fail.PROTOCOL, "", "unknown method \"" + method + "\"", null));
            return;
        }
        if (!helloDone && !method.equals("hello")) {
            sendError(id, Errors.error(Fail.PROTOCOL, "", "the first request must be hello, not " + method, null));
            return;
        }
        long timeoutMs = 0;
        JsonNode t = req.get("timeout_ms");
        if (t != null && !t.isNull()) {
            if (!t.isIntegralNumber() || !t.canConvertToLong() || t.longValue() < 0) {
                sendError(id, Errors.error(Fail.PROTOCOL, "", "timeout_ms must be a non-negative integer", null));
                return;
            }
            timeoutMs = t.longValue();
        }
        JsonNode params = req.get("params");
        if (params == null || params.isNull()) {
            params = Json.object();
        } else if (!params.isObject()) {
            sendError(id, Errors.error(Fail.PROTOCOL, "", "params must be a JSON object", null));
            return;
        }
        try {
            Params.check(method, params);
        } catch (Fail f) {
            sendError(id, Errors.classify(f));
            return;
        }
        switch (method) {
            case "hello", "cancel" -> inline(id, method, params);
            default -> start(id, method, params, timeoutMs);
        }
    }

    /**
     * hello and cancel are answered on the reading thread, in order: a
     * cancel must not wait behind the request it cancels. Every other
     * request, echo included, takes the same way through the executor, so
     * an echo round trip measures the protocol's own cost of a request (the
     * engine.bench check subtracts it).
     */
    private void inline(long id, String method, JsonNode p) {
        ObjectNode result;
        try {
            switch (method) {
                case "hello" -> {
                    long v = p.get("protocol").longValue();
                    if (v != PROTOCOL_VERSION) {
                        throw Fail.protocol("protocol version " + v + " is not supported; this backend speaks " + PROTOCOL_VERSION);
                    }
                    helloDone = true;
                    result = Json.object();
                    result.put("protocol", PROTOCOL_VERSION);
                    result.put("backend", Adapters.backendName());
                }
                case "cancel" -> {
                    long rid = p.get("request").longValue();
                    Call c = inflight.get(rid);
                    boolean cancelled = c != null && c.abort("cancelled by the client (cancel of request " + rid + ")");
                    if (!cancelled) {
                        // Answered as the client gave up: it will never use what the answer named.
                        List<String> late = recentlyCreated.remove(rid);
                        if (late != null) {
                            dropLater(late);
                        }
                    }
                    result = Json.object();
                    result.put("cancelled", cancelled);
                }
                default -> throw new IllegalStateException("not an inline method: " + method);
            }
        } catch (RuntimeException e) {
            sendError(id, Errors.classify(e));
            return;
        }
        ObjectNode msg = Json.object();
        msg.put("id", id);
        msg.set("result", result);
        send(msg);
    }

    private void start(long id, String method, JsonNode p, long timeoutMs) {
        Call call = new Call(id, method, this::answer, executor);
        inflight.put(id, call);
        if (timeoutMs > 0) {
            call.timeoutMs = timeoutMs;
            call.deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.min(timeoutMs, 86_400_000L));
            watchdog.watch(call);
        }
        Runnable task = () -> run(call, p);
        SerialQueue q = queueOf(method, p);
        if (q != null) {
            q.submit(task);
        } else {
            executor.execute(task);
        }
    }

    /** The queue of the object a request works on; null when it may run concurrently. */
    private SerialQueue queueOf(String method, JsonNode p) {
        String key = switch (method) {
            case "execute", "executemany", "query" -> p.path("on").asText();
            case "cursor.fetchone", "cursor.fetchmany", "cursor.fetchall", "cursor.close" -> p.path("cursor").asText();
            case "conn.release", "tx.begin" -> p.path("conn").asText();
            case "tx.commit", "tx.rollback" -> p.path("tx").asText();
            default -> null;
        };
        if (key == null) {
            return null;
        }
        Obj o = objects.get(key);
        return o == null ? null : o.queue;
    }

    private void run(Call call, JsonNode p) {
        if (call.done()) {
            return; // aborted while it waited its turn
        }
        ObjectNode result;
        try {
            result = handle(call, call.method, p);
        } catch (Throwable e) {
            discard(call.created);
            call.fail(Errors.classify(e));
            return;
        }
        if (!call.created.isEmpty()) {
            recentlyCreated.put(call.id, List.copyOf(call.created));
        }
        if (!call.succeed(result)) {
            recentlyCreated.remove(call.id);
            discard(call.created); // answered timeout meanwhile: nobody will use them
        }
    }

    private void answer(Call call, ObjectNode result, ObjectNode error) {
        inflight.remove(call.id, call);
        if (call.timeoutMs > 0) {
            watchdog.unwatch(call);
        }
        ObjectNode msg = Json.object();
        msg.put("id", call.id);
        if (error != null) {
            msg.set("error", error);
        } else {
            msg.set("result", result);
        }
        send(msg);
    }

    private void sendError(long id, ObjectNode error) {
        ObjectNode msg = Json.object();
        msg.put("id", id);
        msg.set("error", error);
        send(msg);
    }

    private static ObjectNode noId(String message) {
        ObjectNode msg = Json.object();
        msg.putNull("id");
        msg.set("error", Errors.error(Fail.PROTOCOL, "", message, null));
        return msg;
    }

    private void send(ObjectNode msg) {
        byte[] b = Json.bytes(msg);
        if (b.length + 1 > MAX_MESSAGE) {
            ObjectNode err = Json.object();
            err.set("id", msg.get("id"));
            err.set("error", Errors.error(Fail.PROTOCOL, "", "response of " + (b.length + 1) + " bytes exceeds the "
                    + MAX_MESSAGE + "-byte limit (fetch fewer rows at a time)", null));
            b = Json.bytes(err);
        }
        synchronized (writeLock) {
            try {
                out.write(b);
                out.write('\n');
                out.flush();
            } catch (IOException e) {
                // The client is gone: wake the reader so the session ends.
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
        }
    }

    /** After an oversized line: stop writing, swallow what the client still sends, close. */
    private void drainAndClose(InputStream in) {
        try {
            socket.shutdownOutput();
            socket.setSoTimeout(10_000);
            byte[] sink = new byte[64 * 1024];
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (in.read(sink) >= 0 && System.nanoTime() < deadline) {
                // discard: closing with unread data would reset the connection and lose the answer
            }
        } catch (SocketTimeoutException e) {
            // the client stopped sending; close now
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    // ------------------------------------------------------------ objects

    private String put(Call call, String prefix, Obj o) {
        o.id = prefix + seq.incrementAndGet();
        objects.put(o.id, o);
        call.created.add(o.id);
        if (closed) {
            objects.remove(o.id);
            closeObj(o);
            throw new Fail(Fail.CONNECTION, "the client closed the connection");
        }
        return o.id;
    }

    private Obj get(String id, Class<?>... kinds) {
        Obj o = objects.get(id);
        if (o != null) {
            for (Class<?> k : kinds) {
                if (k.isInstance(o)) {
                    return o;
                }
            }
        }
        List<String> names = new ArrayList<>();
        for (Class<?> k : kinds) {
            names.add(k == EngineObj.class ? "engine" : k == ConnObj.class ? "connection" : k == TxObj.class ? "transaction" : "cursor");
        }
        throw Fail.misuse("no open " + String.join(" or ", names) + " with id \"" + id + "\"" + (o != null ? " (it is a " + o.kind() + ")" : ""));
    }

    private void discard(List<String> ids) {
        for (String id : ids) {
            Obj o = objects.remove(id);
            if (o != null) {
                closeObj(o);
            }
        }
    }

    /** discard, each object closed on its own queue (after what runs there), off the reading thread. */
    private void dropLater(List<String> ids) {
        for (String id : ids) {
            Obj o = objects.remove(id);
            if (o == null) {
                continue;
            }
            Runnable close = () -> closeObj(o);
            if (o.queue != null) {
                o.queue.submit(close);
            } else {
                executor.execute(close);
            }
        }
    }

    /** Closes one object; a connection takes its cursors and transaction with it. */
    private void closeObj(Obj o) {
        if (o instanceof CursorObj k) {
            k.cursor.close();
            if (k.owner != null) {
                k.owner.cursors.remove(k);
            }
        } else if (o instanceof ConnObj c) {
            for (CursorObj k : c.cursors) {
                objects.remove(k.id);
                k.cursor.close();
            }
            c.cursors.clear();
            if (c.tx != null) {
                objects.remove(c.tx.id);
                c.tx = null;
            }
            c.engine.source.release(c.conn);
        } else if (o instanceof EngineObj e) {
            e.source.close();
        }
    }

    /**
     * Closes connections and cursors on their own queues, so each closes
     * after the request it may be running (whose statement was cancelled),
     * waiting up to CLOSE_WAIT_MS in all.
     */
    private void closeOnQueues(List<Obj> list) {
        CountDownLatch done = new CountDownLatch(list.size());
        for (Obj o : list) {
            Runnable close = () -> {
                try {
                    closeObj(o);
                } finally {
                    done.countDown();
                }
            };
            if (o.queue != null) {
                o.queue.submit(close);
            } else {
                close.run();
            }
        }
        try {
            done.await(CLOSE_WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void closeEngine(EngineObj e) {
        List<Obj> children = new ArrayList<>();
        for (Obj o : objects.values()) {
            if ((o instanceof ConnObj c && c.engine == e) || (o instanceof CursorObj k && k.engine == e)) {
                if (objects.remove(o.id, o)) {
                    children.add(o);
                }
            }
        }
        closeOnQueues(children);
        e.source.close();
    }

    private void closeAll() {
        closed = true;
        for (Call c : inflight.values()) {
            c.abort("the client closed the connection");
        }
        List<EngineObj> engines = new ArrayList<>();
        List<Obj> rest = new ArrayList<>();
        for (Obj o : objects.values()) {
            if (o instanceof EngineObj e) {
                engines.add(e);
            } else if (o instanceof ConnObj || (o instanceof CursorObj k && k.owner == null)) {
                rest.add(o);
            }
        }
        objects.clear();
        closeOnQueues(rest);
        for (EngineObj e : engines) {
            try {
                e.source.close();
            } catch (RuntimeException ignored) {
                // the next engine still gets closed
            }
        }
    }

    // ------------------------------------------------------------ methods

    private ObjectNode handle(Call c, String method, JsonNode p) throws Exception {
        return switch (method) {
            case "describe" -> Adapters.describe();
            case "echo" -> {
                ObjectNode r = Json.object();
                r.set("value", Values.encode(Values.decode(p.get("value"))));
                yield r;
            }
            case "process.memory" -> Memory.read(p.path("reset_peak").asBoolean(false));
            case "engine.open" -> engineOpen(c, p);
            case "engine.close" -> {
                EngineObj e = (EngineObj) get(p.get("engine").textValue(), EngineObj.class);
                if (objects.remove(e.id, e)) {
                    closeEngine(e);
                }
                yield Json.object();
            }
            case "engine.introspect" -> introspect(c, p);
            case "engine.bench" -> bench(c, p);
            case "execute" -> execute(c, p);
            case "executemany" -> executeMany(c, p);
            case "query" -> query(c, p);
            case "cursor.fetchone" -> {
                ArrayNode row = cursor(p).cursor.fetchOne();
                ObjectNode r = Json.object();
                r.set("row", row == null ? Json.NODES.nullNode() : row);
                yield r;
            }
            case "cursor.fetchmany" -> {
                long n = p.get("n").longValue();
                if (n < 0 || n > Integer.MAX_VALUE) {
                    throw Fail.misuse("fetchmany n=" + n + ": want 0 or more");
                }
                yield rows(cursor(p).cursor.fetchMany((int) n));
            }
            case "cursor.fetchall" -> rows(cursor(p).cursor.fetchAll());
            case "cursor.close" -> {
                CursorObj k = cursor(p);
                if (objects.remove(k.id, k)) {
                    closeObj(k);
                }
                yield Json.object();
            }
            case "conn.acquire" -> {
                EngineObj e = (EngineObj) get(p.get("engine").textValue(), EngineObj.class);
                Connection conn = e.source.borrow(c);
                ConnObj co = new ConnObj(e, conn, new SerialQueue(executor));
                ObjectNode r = Json.object();
                r.put("conn", put(c, "c", co));
                yield r;
            }
            case "conn.release" -> {
                ConnObj co = (ConnObj) get(p.get("conn").textValue(), ConnObj.class);
                if (objects.remove(co.id, co)) {
                    closeObj(co);
                }
                yield Json.object();
            }
            case "tx.begin" -> {
                ConnObj co = (ConnObj) get(p.get("conn").textValue(), ConnObj.class);
                if (co.tx != null) {
                    throw Fail.misuse("connection " + co.id + " already has transaction " + co.tx.id + " open");
                }
                co.conn.setAutoCommit(false);
                TxObj tx = new TxObj(co);
                ObjectNode r = Json.object();
                r.put("tx", put(c, "t", tx));
                co.tx = tx;
                yield r;
            }
            case "tx.commit" -> endTx(p, true);
            case "tx.rollback" -> endTx(p, false);
            case "webapp.start" -> {
                EngineObj e = (EngineObj) get(p.get("engine").textValue(), EngineObj.class);
                throw new Fail(Fail.UNSUPPORTED, "adapter " + e.adapter.name() + " has no web app");
            }
            case "orm.run" -> {
                EngineObj e = (EngineObj) get(p.get("engine").textValue(), EngineObj.class);
                throw new Fail(Fail.UNSUPPORTED, "adapter " + e.adapter.name() + " has no ORM");
            }
            case "probe.sync_misuse", "probe.missing_async_dependency" -> {
                Adapters.Adapter a = Adapters.get(p.get("adapter").textValue());
                throw new Fail(Fail.UNSUPPORTED, "adapter " + a.name() + " is not async: " + method + " does not apply");
            }
            default -> throw Fail.protocol("unknown method \"" + method + "\"");
        };
    }

    private ObjectNode engineOpen(Call c, JsonNode p) throws Exception {
        Adapters.Adapter a = Adapters.get(p.get("adapter").textValue());
        long poolMax = p.path("pool_max").asLong(0);
        if (poolMax < 0 || poolMax > 10_000) {
            throw Fail.misuse("pool_max " + poolMax + ": want 0 (the default) to 10000");
        }
        Dsn dsn = Dsn.parse(p.get("dsn").textValue());
        Source src = a.open(dsn, (int) poolMax, p.path("application_name").asText(""), c);
        EngineObj e = new EngineObj(a, src);
        ObjectNode r = Json.object();
        r.put("engine", put(c, "e", e));
        return r;
    }

    private ObjectNode introspect(Call c, JsonNode p) throws Exception {
        EngineObj e = (EngineObj) get(p.get("engine").textValue(), EngineObj.class);
        Connection conn = e.source.borrow(c);
        String cls;
        try {
            cls = Source.connectionClass(conn);
        } finally {
            e.source.release(conn);
        }
        ObjectNode r = Json.object();
        r.put("dialect", "");
        r.put("is_async", false);
        r.put("pool_class", e.source.poolClass());
        r.put("connection_class", cls);
        return r;
    }

    /** engine.bench: the query request's own path (engineQuery), then fetchall and close, n times. */
    private ObjectNode bench(Call c, JsonNode p) throws Exception {
        long n = p.get("n").longValue();
        if (n < 0 || n > 1_000_000) {
            throw Fail.misuse("n=" + n + ": want 0..1000000");
        }
        String sql = p.get("sql").textValue();
        EngineObj e = (EngineObj) get(p.get("engine").textValue(), EngineObj.class);
        long[] d = new long[(int) n];
        List<Object> none = List.of();
        for (int i = 0; i < d.length && !c.done(); i++) {
            long t0 = System.nanoTime();
            Cursor cur = engineQuery(e, sql, none, c, false);
            cur.fetchAll();
            cur.close();
            d[i] = System.nanoTime() - t0;
        }
        ObjectNode r = Json.object();
        ArrayNode a = r.putArray("durations_ns");
        for (long x : d) {
            a.add(x);
        }
        return r;
    }

    /** Rows per fetch when asked to stream (PROTOCOL.md query, "stream"). */
    private static final int STREAM_FETCH_SIZE = 1000;

    /**
     * query on an engine: a pooled connection, held by the cursor until its rows end or it
     * closes. Asked to stream, the statement runs in a transaction of its own with a fetch
     * size, the only way pgjdbc reads a result in batches (a JDBC application streaming a
     * large result does the same); the cursor's end commits it.
     */
    private static Cursor engineQuery(EngineObj e, String sql, List<Object> params, Call c, boolean stream) throws Exception {
        Connection conn = e.source.borrow(c);
        try {
            if (!stream) {
                return Statements.query(conn, sql, params, c, () -> e.source.release(conn), 0);
            }
            conn.setAutoCommit(false);
            return Statements.query(conn, sql, params, c, () -> {
                endStreamTx(conn);
                e.source.release(conn);
            }, STREAM_FETCH_SIZE);
        } catch (Exception | Error ex) {
            endStreamTx(conn);
            e.source.release(conn);
            throw ex;
        }
    }

    /** Ends the transaction a streamed query ran in (if any) and restores autocommit. */
    private static void endStreamTx(Connection conn) {
        try {
            if (!conn.getAutoCommit()) {
                try {
                    conn.commit();
                } catch (SQLException failed) {
                    conn.rollback(); // the statement's own error was reported
                }
                conn.setAutoCommit(true);
            }
        } catch (SQLException ignored) {
            // a broken connection: the pool discards it
        }
    }

    private ObjectNode execute(Call c, JsonNode p) throws Exception {
        String sql = p.get("sql").textValue();
        List<Object> params = Values.decodeList(p.get("params"), "parameter");
        Obj o = get(p.get("on").textValue(), EngineObj.class, ConnObj.class, TxObj.class);
        long n;
        if (o instanceof EngineObj e) {
            Connection conn = e.source.borrow(c);
            try {
                n = Statements.execute(conn, sql, params, c);
            } finally {
                e.source.release(conn);
            }
        } else {
            n = Statements.execute(connOf(o).conn, sql, params, c);
        }
        return rowcount(n);
    }

    private ObjectNode executeMany(Call c, JsonNode p) throws Exception {
        String sql = p.get("sql").textValue();
        List<List<Object>> rows = new ArrayList<>();
        int i = 0;
        for (JsonNode r : p.get("rows")) {
            rows.add(Values.decodeList(r, "row " + i + " parameter"));
            i++;
        }
        Obj o = get(p.get("on").textValue(), EngineObj.class, ConnObj.class, TxObj.class);
        long n;
        if (o instanceof EngineObj e) {
            Connection conn = e.source.borrow(c);
            try {
                n = Statements.executeMany(conn, sql, rows, c);
            } finally {
                e.source.release(conn);
            }
        } else {
            n = Statements.executeMany(connOf(o).conn, sql, rows, c);
        }
        return rowcount(n);
    }

    private ObjectNode query(Call c, JsonNode p) throws Exception {
        String sql = p.get("sql").textValue();
        List<Object> params = Values.decodeList(p.get("params"), "parameter");
        boolean stream = p.path("stream").asBoolean(false);
        Obj o = get(p.get("on").textValue(), EngineObj.class, ConnObj.class, TxObj.class);
        Cursor cur;
        CursorObj k;
        if (o instanceof EngineObj e) {
            cur = engineQuery(e, sql, params, c, stream);
            k = new CursorObj(cur, null, e, new SerialQueue(executor));
        } else {
            ConnObj co = connOf(o);
            // Inside a transaction pgjdbc can fetch in batches; outside one it cannot.
            cur = Statements.query(co.conn, sql, params, c, null, stream && co.tx != null ? STREAM_FETCH_SIZE : 0);
            k = new CursorObj(cur, co, co.engine, co.queue);
            co.cursors.add(k);
        }
        ObjectNode r = Json.object();
        try {
            r.put("cursor", put(c, "k", k));
        } catch (RuntimeException ex) {
            cur.close();
            throw ex;
        }
        r.set("columns", cur.columns);
        return r;
    }

    private ObjectNode endTx(JsonNode p, boolean commit) throws SQLException {
        TxObj tx = (TxObj) get(p.get("tx").textValue(), TxObj.class);
        if (!objects.remove(tx.id, tx)) {
            throw Fail.misuse("no open transaction with id \"" + tx.id + "\"");
        }
        ConnObj co = tx.conn;
        co.tx = null;
        Connection conn = co.conn;
        try {
            if (commit) {
                conn.commit();
            } else {
                conn.rollback();
            }
        } catch (SQLException e) {
            try {
                conn.rollback();
            } catch (SQLException ignored) {
                // the commit's error is the one to report
            }
            throw e;
        } finally {
            try {
                conn.setAutoCommit(true);
            } catch (SQLException ignored) {
                // a broken connection: its next statement reports it
            }
        }
        return Json.object();
    }

    private static ConnObj connOf(Obj o) {
        return o instanceof TxObj t ? t.conn : (ConnObj) o;
    }

    private CursorObj cursor(JsonNode p) {
        return (CursorObj) get(p.get("cursor").textValue(), CursorObj.class);
    }

    private static ObjectNode rows(ArrayNode rows) {
        ObjectNode r = Json.object();
        r.set("rows", rows);
        return r;
    }

    private static ObjectNode rowcount(long n) {
        ObjectNode r = Json.object();
        r.put("rowcount", n);
        return r;
    }
}
