//! One protocol connection (PROTOCOL.md §1-2, §4): framing, request
//! validation, dispatch, out-of-order answers, per-object ordering,
//! `cancel` and `timeout_ms`, and the objects the connection owns.
//!
//! Ordering: a request on a connection, transaction or cursor is handed to
//! that object's task while its line is being read, before the next line
//! is, so each object sees its requests in arrival order; everything else
//! runs concurrently in its own task.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use serde_json::{json, Map, Value as Json};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use crate::cancel::CancelSlot;
use crate::codec::{self, Value};
use crate::engine::{self, Actor, Engine, Op, Reply};
use crate::errors::Fail;
use crate::memory;

pub const PROTOCOL_VERSION: u64 = 1;
/// Largest message either side accepts, newline included.
pub const MAX_MESSAGE: usize = 16 * 1024 * 1024;
/// Largest request id (2^53-1: every language's JSON carries it exactly).
const MAX_ID: u64 = (1 << 53) - 1;
/// After refusing an oversized line, how long the backend keeps reading
/// (and discarding) before it closes, so its answer is not lost to a reset.
const LINGER: Duration = Duration::from_secs(10);

pub const MANIFEST: &str = include_str!("../manifest.json");

type BoxFut = Pin<Box<dyn Future<Output = Result<Json, Fail>> + Send>>;

enum Out {
    Line(Vec<u8>),
    Close,
}

#[derive(Clone)]
enum Obj {
    Engine(Arc<EngineObj>),
    Conn(Actor),
    Tx(Actor),
    Cursor(Actor, u64),
}

struct EngineObj {
    engine: Engine,
}

struct InFlight {
    abort: Option<AbortHandle>,
    slot: Arc<CancelSlot>,
    answered: Arc<AtomicBool>,
}

/// Session is the state of one protocol connection.
pub struct Session {
    out: mpsc::UnboundedSender<Out>,
    hello: AtomicBool,
    seq: AtomicU64,
    objects: Mutex<HashMap<String, Obj>>,
    inflight: Mutex<HashMap<u64, InFlight>>,
}

/// serve speaks the protocol on one connection until the peer closes it,
/// then closes every object the connection made.
pub async fn serve<R, W>(reader: R, writer: W)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (out, out_rx) = mpsc::unbounded_channel();
    let writer_task = tokio::spawn(write_loop(writer, out_rx));
    let s = Arc::new(Session {
        out,
        hello: AtomicBool::new(false),
        seq: AtomicU64::new(1),
        objects: Mutex::default(),
        inflight: Mutex::default(),
    });
    let mut r = BufReader::with_capacity(64 * 1024, reader);
    let mut line = Vec::new();
    loop {
        match read_line(&mut r, &mut line).await {
            Ok(Line::Complete) => s.handle_line(&line),
            Ok(Line::TooLong) => {
                s.send(None, Err(Fail::protocol(format!("message exceeds the {MAX_MESSAGE}-byte limit; closing the connection"))));
                let _ = s.out.send(Out::Close);
                // Keep reading so the peer's unread bytes do not turn the
                // close into a reset that could swallow the answer.
                let _ = tokio::time::timeout(LINGER, async {
                    let mut sink = vec![0u8; 64 * 1024];
                    while matches!(r.read(&mut sink).await, Ok(n) if n > 0) {}
                })
                .await;
                break;
            }
            Ok(Line::Eof) | Err(_) => break,
        }
    }
    s.close_all().await;
    drop(s);
    let _ = writer_task.await;
}

enum Line {
    Complete,
    TooLong,
    Eof,
}

/// read_line reads one message without its newline (and a \r before it),
/// refusing one longer than MAX_MESSAGE bytes.
async fn read_line<R: AsyncBufRead + Unpin>(r: &mut R, buf: &mut Vec<u8>) -> std::io::Result<Line> {
    buf.clear();
    loop {
        let avail = r.fill_buf().await?;
        if avail.is_empty() {
            return Ok(Line::Eof); // a partial last line is dropped with the connection
        }
        if let Some(i) = avail.iter().position(|&b| b == b'\n') {
            if buf.len() + i + 1 > MAX_MESSAGE {
                return Ok(Line::TooLong);
            }
            buf.extend_from_slice(&avail[..i]);
            r.consume(i + 1);
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(Line::Complete);
        }
        let n = avail.len();
        if buf.len() + n + 1 > MAX_MESSAGE {
            return Ok(Line::TooLong);
        }
        buf.extend_from_slice(avail);
        r.consume(n);
    }
}

async fn write_loop<W: AsyncWrite + Unpin>(w: W, mut rx: mpsc::UnboundedReceiver<Out>) {
    let mut w = BufWriter::with_capacity(64 * 1024, w);
    while let Some(msg) = rx.recv().await {
        match msg {
            Out::Line(b) => {
                if w.write_all(&b).await.is_err() {
                    return;
                }
            }
            Out::Close => {
                let _ = w.flush().await;
                let _ = w.shutdown().await;
                return;
            }
        }
        // Flush once nothing else is queued: answers that come together
        // leave in one write.
        if rx.is_empty() && w.flush().await.is_err() {
            return;
        }
    }
    let _ = w.flush().await;
}

fn type_name(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// Params reads a request's parameters; a missing or ill-typed one is a
/// `protocol` error.
struct Params<'a>(&'a Map<String, Json>);

impl<'a> Params<'a> {
    fn present(&self, key: &str) -> Option<&'a Json> {
        self.0.get(key).filter(|v| !v.is_null())
    }
    fn str(&self, key: &str) -> Result<&'a str, Fail> {
        match self.0.get(key) {
            None | Some(Json::Null) => Err(Fail::protocol(format!("missing parameter {key:?}"))),
            Some(Json::String(s)) => Ok(s),
            Some(v) => Err(Fail::protocol(format!("parameter {key:?} must be a string, not {}", type_name(v)))),
        }
    }
    fn opt_str(&self, key: &str) -> Result<Option<&'a str>, Fail> {
        match self.present(key) {
            None => Ok(None),
            Some(_) => self.str(key).map(Some),
        }
    }
    fn uint(&self, key: &str) -> Result<u64, Fail> {
        match self.0.get(key) {
            None | Some(Json::Null) => Err(Fail::protocol(format!("missing parameter {key:?}"))),
            Some(Json::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64().expect("u64")),
            Some(v) => Err(Fail::protocol(format!("parameter {key:?} must be a non-negative integer, not {v}"))),
        }
    }
    fn opt_uint(&self, key: &str) -> Result<Option<u64>, Fail> {
        match self.present(key) {
            None => Ok(None),
            Some(_) => self.uint(key).map(Some),
        }
    }
    fn opt_bool(&self, key: &str) -> Result<Option<bool>, Fail> {
        match self.present(key) {
            None => Ok(None),
            Some(Json::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(Fail::protocol(format!("parameter {key:?} must be a boolean, not {}", type_name(v)))),
        }
    }
    fn array(&self, key: &str) -> Result<&'a Vec<Json>, Fail> {
        match self.0.get(key) {
            None | Some(Json::Null) => Err(Fail::protocol(format!("missing parameter {key:?}"))),
            Some(Json::Array(a)) => Ok(a),
            Some(v) => Err(Fail::protocol(format!("parameter {key:?} must be an array, not {}", type_name(v)))),
        }
    }
    fn opt_array(&self, key: &str) -> Result<Option<&'a Vec<Json>>, Fail> {
        match self.present(key) {
            None => Ok(None),
            Some(_) => self.array(key).map(Some),
        }
    }
    /// values is the statement parameters (protocol values), default none.
    fn values(&self, key: &str) -> Result<Vec<Value>, Fail> {
        match self.opt_array(key)? {
            None => Ok(Vec::new()),
            Some(a) => a
                .iter()
                .enumerate()
                .map(|(i, v)| codec::decode(v).map_err(|e| Fail::misuse(format!("parameter ${}: {e}", i + 1))))
                .collect(),
        }
    }
}

const METHODS: &[&str] = &[
    "hello", "describe", "echo", "cancel", "engine.open", "engine.close", "engine.introspect", "engine.bench",
    "conn.acquire", "conn.release", "execute", "executemany", "query", "cursor.fetchone", "cursor.fetchmany",
    "cursor.fetchall", "cursor.close", "tx.begin", "tx.commit", "tx.rollback", "webapp.start", "orm.run",
    "probe.sync_misuse", "probe.missing_async_dependency", "process.memory",
];

fn is_adapter(name: &str) -> bool {
    name == engine::POOLED || name == engine::RAW
}

pub fn describe() -> Json {
    let mut m: Json = serde_json::from_str(MANIFEST).expect("manifest.json is valid JSON");
    let version = format!("tokio-postgres {}", env!("PGWC_TOKIO_POSTGRES_VERSION"));
    if let Some(ads) = m["adapters"].as_array_mut() {
        for a in ads {
            a["driver_version"] = Json::String(version.clone());
        }
    }
    json!({"backend": m["backend"], "protocol": PROTOCOL_VERSION,
           "language": format!("Rust {}", env!("PGWC_RUSTC_VERSION")), "adapters": m["adapters"]})
}

impl Session {
    fn send(&self, id: Option<u64>, r: Result<Json, Fail>) {
        let msg = match r {
            Ok(result) => json!({"id": id, "result": result}),
            Err(f) => json!({"id": id, "error": f.to_json()}),
        };
        let mut b = serde_json::to_vec(&msg).unwrap_or_default();
        if b.len() + 1 > MAX_MESSAGE {
            let f = Fail::protocol(format!("the response of {} bytes exceeds the {MAX_MESSAGE}-byte limit", b.len() + 1));
            b = serde_json::to_vec(&json!({"id": id, "error": f.to_json()})).unwrap_or_default();
        }
        b.push(b'\n');
        let _ = self.out.send(Out::Line(b));
    }

    fn new_id(&self, prefix: char) -> String {
        format!("{prefix}{}", self.seq.fetch_add(1, Ordering::Relaxed))
    }

    fn put(&self, prefix: char, o: Obj) -> String {
        let id = self.new_id(prefix);
        self.objects.lock().expect("objects").insert(id.clone(), o);
        id
    }

    fn get(&self, id: &str) -> Option<Obj> {
        self.objects.lock().expect("objects").get(id).cloned()
    }

    fn remove(&self, id: &str) {
        self.objects.lock().expect("objects").remove(id);
    }

    fn engine(&self, id: &str) -> Result<Arc<EngineObj>, Fail> {
        match self.get(id) {
            Some(Obj::Engine(e)) => Ok(e),
            _ => Err(Fail::misuse(format!("no open engine with id {id:?}"))),
        }
    }

    fn handle_line(self: &Arc<Self>, line: &[u8]) {
        let req: Json = match serde_json::from_slice(line) {
            Ok(v) => v,
            Err(e) => return self.send(None, Err(Fail::protocol(format!("malformed request: {e}")))),
        };
        let Json::Object(req) = req else {
            return self.send(None, Err(Fail::protocol("a request is a JSON object")));
        };
        let id = match req.get("id").and_then(Json::as_u64) {
            Some(id) if id <= MAX_ID => id,
            _ => return self.send(None, Err(Fail::protocol("a request needs an id: an integer from 0 to 2^53-1"))),
        };
        let timeout = match req.get("timeout_ms") {
            None | Some(Json::Null) => None,
            Some(Json::Number(n)) if n.as_u64().is_some() => Some(Duration::from_millis(n.as_u64().expect("u64"))),
            Some(v) => return self.send(Some(id), Err(Fail::protocol(format!("timeout_ms must be a non-negative integer, not {v}")))),
        };
        if self.inflight.lock().expect("inflight").contains_key(&id) {
            return self.send(Some(id), Err(Fail::protocol(format!("request id {id} is already in flight"))));
        }
        let method = match req.get("method") {
            Some(Json::String(m)) => m.as_str(),
            None | Some(Json::Null) => return self.send(Some(id), Err(Fail::protocol("request without a method"))),
            Some(v) => return self.send(Some(id), Err(Fail::protocol(format!("method must be a string, not {}", type_name(v))))),
        };
        if !METHODS.contains(&method) {
            return self.send(Some(id), Err(Fail::protocol(format!("unknown method {method:?}"))));
        }
        if method != "hello" && !self.hello.load(Ordering::SeqCst) {
            return self.send(Some(id), Err(Fail::protocol(format!("{method} before hello: hello must be the first request"))));
        }
        let empty = Map::new();
        let params = match req.get("params") {
            None | Some(Json::Null) => &empty,
            Some(Json::Object(m)) => m,
            Some(v) => return self.send(Some(id), Err(Fail::protocol(format!("params must be an object, not {}", type_name(v))))),
        };
        match self.start(id, method, Params(params)) {
            Ok(Start::Now(r)) => self.send(Some(id), r),
            Ok(Start::Later(fut, slot)) => self.spawn(id, fut, slot, timeout),
            Err(f) => self.send(Some(id), Err(f)),
        }
    }

    /// spawn runs a request in its own task, answering it exactly once:
    /// with its result, or with a timeout error when `timeout_ms` passes or
    /// the client cancels it.
    fn spawn(self: &Arc<Self>, id: u64, fut: BoxFut, slot: Arc<CancelSlot>, timeout: Option<Duration>) {
        let answered = Arc::new(AtomicBool::new(false));
        self.inflight
            .lock()
            .expect("inflight")
            .insert(id, InFlight { abort: None, slot: slot.clone(), answered: answered.clone() });
        let s = self.clone();
        let task = tokio::spawn(async move {
            let mut fut = AssertUnwindSafe(fut).catch_unwind();
            let r = match timeout {
                None => (&mut fut).await,
                Some(d) => match tokio::time::timeout(d, &mut fut).await {
                    Ok(r) => r,
                    Err(_) => {
                        slot.cancel();
                        drop(fut); // a pooled connection it held is closed, not reused
                        Ok(Err(Fail::timeout(format!("timeout_ms {} passed", d.as_millis()))))
                    }
                },
            };
            let r = r.unwrap_or_else(|p| {
                let what = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()));
                Err(Fail::misuse(format!("the backend failed on this request: {}", what.unwrap_or_default())))
            });
            s.inflight.lock().expect("inflight").remove(&id);
            if !answered.swap(true, Ordering::SeqCst) {
                s.send(Some(id), r);
            }
        });
        if let Some(f) = self.inflight.lock().expect("inflight").get_mut(&id) {
            f.abort = Some(task.abort_handle());
        }
    }

    fn cancel(&self, request: u64) -> bool {
        let f = self.inflight.lock().expect("inflight").remove(&request);
        let Some(f) = f else { return false };
        if f.answered.swap(true, Ordering::SeqCst) {
            return false;
        }
        f.slot.cancel();
        if let Some(a) = f.abort {
            a.abort();
        }
        self.send(Some(request), Err(Fail::timeout(format!("request {request} was cancelled by the client"))));
        true
    }

    fn start(self: &Arc<Self>, id: u64, method: &str, p: Params) -> Result<Start, Fail> {
        let slot = CancelSlot::new();
        let later = |f: BoxFut| Ok(Start::Later(f, slot.clone()));
        match method {
            "hello" => {
                let v = match p.0.get("protocol") {
                    Some(Json::Number(n)) if n.as_u64().is_some() => n.as_u64().expect("u64"),
                    Some(v) => return Err(Fail::protocol(format!("protocol must be an integer, not {v}"))),
                    None => return Err(Fail::protocol("missing parameter \"protocol\"")),
                };
                if v != PROTOCOL_VERSION {
                    return Err(Fail::protocol(format!("protocol version {v} not supported; this backend speaks {PROTOCOL_VERSION}")));
                }
                p.opt_str("client")?;
                self.hello.store(true, Ordering::SeqCst);
                Ok(Start::Now(Ok(json!({"protocol": PROTOCOL_VERSION, "backend": describe()["backend"]}))))
            }
            "describe" => Ok(Start::Now(Ok(describe()))),
            "echo" => {
                let v = p.0.get("value").ok_or_else(|| Fail::protocol("missing parameter \"value\""))?;
                let decoded = codec::decode(v)?;
                Ok(Start::Now(Ok(json!({"value": codec::encode(&decoded)}))))
            }
            "cancel" => {
                let r = p.uint("request")?;
                Ok(Start::Now(Ok(json!({"cancelled": self.cancel(r)}))))
            }
            "process.memory" => {
                let reset = p.opt_bool("reset_peak")?.unwrap_or(false);
                Ok(Start::Now(memory::read(reset)))
            }
            "engine.open" => {
                let adapter = p.str("adapter")?;
                let dsn = p.str("dsn")?;
                let pool_max = p.opt_uint("pool_max")?.unwrap_or(0);
                let app = p.opt_str("application_name")?.unwrap_or("");
                let profile = p.opt_str("profile")?.unwrap_or("postgres");
                if !is_adapter(adapter) {
                    return Err(Fail::misuse(format!("unknown adapter {adapter:?} (this backend serves {}, {})", engine::POOLED, engine::RAW)));
                }
                if profile != "postgres" && profile != "iris" {
                    return Err(Fail::misuse(format!("unknown profile {profile:?}")));
                }
                let pool_max = usize::try_from(pool_max).map_err(|_| Fail::misuse("pool_max too large"))?;
                let e = Engine::open(adapter, dsn, pool_max, app)?;
                let id = self.put('e', Obj::Engine(Arc::new(EngineObj { engine: e })));
                Ok(Start::Now(Ok(json!({"engine": id}))))
            }
            "engine.close" => {
                let eid = p.str("engine")?;
                let e = self.engine(eid)?;
                self.remove(eid);
                later(Box::pin(async move {
                    e.engine.close().await;
                    Ok(json!({}))
                }))
            }
            "engine.introspect" => {
                let e = self.engine(p.str("engine")?)?;
                Ok(Start::Now(Ok(e.engine.introspect())))
            }
            "engine.bench" => {
                let eid = p.str("engine")?;
                let sql = p.str("sql")?.to_string();
                let n = p.uint("n")?;
                let e = self.engine(eid)?;
                if n > 1_000_000 {
                    return Err(Fail::misuse(format!("n={n}: want 0..1000000")));
                }
                let slot2 = slot.clone();
                later(Box::pin(async move {
                    let d = engine::bench(&e.engine, &sql, n as usize, &slot2).await?;
                    Ok(json!({"durations_ns": d}))
                }))
            }
            "conn.acquire" => {
                let e = self.engine(p.str("engine")?)?;
                let s = self.clone();
                later(Box::pin(async move {
                    let held = e.engine.hold().await?;
                    let id = s.put('c', Obj::Conn(engine::spawn_conn(held)));
                    Ok(json!({"conn": id}))
                }))
            }
            "conn.release" => {
                let cid = p.str("conn")?;
                let Some(Obj::Conn(a)) = self.get(cid) else {
                    return Err(Fail::misuse(format!("no open connection with id {cid:?}")));
                };
                self.remove(cid);
                let rx = engine::enqueue(&a, Op::Release, &slot)?;
                later(Box::pin(async move { engine::answer(rx).await.map(|_| json!({})) }))
            }
            "tx.begin" => {
                let cid = p.str("conn")?;
                let Some(Obj::Conn(a)) = self.get(cid) else {
                    return Err(Fail::misuse(format!("no open connection with id {cid:?}")));
                };
                let rx = engine::enqueue(&a, Op::Begin, &slot)?;
                let s = self.clone();
                later(Box::pin(async move {
                    engine::answer(rx).await?;
                    Ok(json!({"tx": s.put('t', Obj::Tx(a))}))
                }))
            }
            "tx.commit" | "tx.rollback" => {
                let tid = p.str("tx")?;
                let Some(Obj::Tx(a)) = self.get(tid) else {
                    return Err(Fail::misuse(format!("no open transaction with id {tid:?}")));
                };
                self.remove(tid);
                let op = if method == "tx.commit" { Op::Commit } else { Op::Rollback };
                let rx = engine::enqueue(&a, op, &slot)?;
                later(Box::pin(async move { engine::answer(rx).await.map(|_| json!({})) }))
            }
            "execute" | "executemany" | "query" => {
                let on = p.str("on")?;
                let sql = p.str("sql")?.to_string();
                let (params, rows) = if method == "executemany" {
                    let rows = p.array("rows")?;
                    let mut out = Vec::with_capacity(rows.len());
                    for (i, r) in rows.iter().enumerate() {
                        let Json::Array(vals) = r else {
                            return Err(Fail::protocol(format!("rows[{i}] must be an array, not {}", type_name(r))));
                        };
                        let mut row = Vec::with_capacity(vals.len());
                        for (j, v) in vals.iter().enumerate() {
                            row.push(codec::decode(v).map_err(|e| Fail::misuse(format!("row {i} parameter ${}: {e}", j + 1)))?);
                        }
                        out.push(row);
                    }
                    (Vec::new(), out)
                } else {
                    (p.values("params")?, Vec::new())
                };
                self.statement(id, method, on, sql, params, rows, slot)
            }
            "cursor.fetchone" | "cursor.fetchmany" | "cursor.fetchall" | "cursor.close" => {
                let kid = p.str("cursor")?;
                let n = match method {
                    "cursor.fetchmany" => Some(usize::try_from(p.uint("n")?).unwrap_or(usize::MAX)),
                    "cursor.fetchone" => Some(1),
                    _ => None,
                };
                let Some(Obj::Cursor(a, key)) = self.get(kid) else {
                    return Err(Fail::misuse(format!("no open cursor with id {kid:?}")));
                };
                if method == "cursor.close" {
                    self.remove(kid);
                    let rx = engine::enqueue(&a, Op::CloseCursor { cursor: key }, &slot)?;
                    return later(Box::pin(async move { engine::answer(rx).await.map(|_| json!({})) }));
                }
                let rx = engine::enqueue(&a, Op::Fetch { cursor: key, n }, &slot)?;
                let one = method == "cursor.fetchone";
                later(Box::pin(async move {
                    let Reply::Rows(rows) = engine::answer(rx).await? else {
                        return Err(Fail::misuse("internal: a fetch answered without rows"));
                    };
                    if one {
                        Ok(json!({"row": rows.first().map(|r| Json::Array(r.iter().map(codec::encode).collect()))}))
                    } else {
                        Ok(json!({"rows": engine::rows_json(&rows)}))
                    }
                }))
            }
            "webapp.start" => {
                let eid = p.str("engine")?;
                p.opt_str("search_sql")?;
                if let Some(ports) = p.opt_array("ports")? {
                    if ports.iter().any(|x| x.as_u64().is_none_or(|n| n > 65535)) {
                        return Err(Fail::protocol("ports must be an array of port numbers"));
                    }
                }
                self.engine(eid)?;
                Err(Fail::unsupported("the tokio-postgres adapters have no web app (capability webapp)"))
            }
            "orm.run" => {
                let eid = p.str("engine")?;
                p.str("table")?;
                p.array("ops")?;
                self.engine(eid)?;
                Err(Fail::unsupported("the tokio-postgres adapters have no ORM (capability orm)"))
            }
            "probe.sync_misuse" | "probe.missing_async_dependency" => {
                let adapter = p.str("adapter")?;
                p.opt_str("dsn")?;
                p.opt_str("profile")?;
                if !is_adapter(adapter) {
                    return Err(Fail::misuse(format!("unknown adapter {adapter:?}")));
                }
                Err(Fail::unsupported(format!("adapter {adapter} has no {method} probe")))
            }
            other => Err(Fail::protocol(format!("unknown method {other:?}"))),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn statement(
        self: &Arc<Self>,
        _id: u64,
        method: &str,
        on: &str,
        sql: String,
        params: Vec<Value>,
        rows: Vec<Vec<Value>>,
        slot: Arc<CancelSlot>,
    ) -> Result<Start, Fail> {
        let target = self.get(on);
        match target {
            Some(Obj::Engine(e)) => {
                let s = self.clone();
                let sl = slot.clone();
                let fut: BoxFut = match method {
                    "execute" => Box::pin(async move {
                        let n = engine::engine_execute(&e.engine, &sql, &params, &sl).await?;
                        Ok(json!({"rowcount": n}))
                    }),
                    "executemany" => Box::pin(async move {
                        let n = engine::engine_execute_many(&e.engine, &sql, &rows, &sl).await?;
                        Ok(json!({"rowcount": n}))
                    }),
                    _ => Box::pin(async move {
                        let (actor, columns) = engine::query_engine(&e.engine, &sql, &params, &sl).await?;
                        let kid = s.put('k', Obj::Cursor(actor, 0));
                        Ok(json!({"cursor": kid, "columns": columns}))
                    }),
                };
                Ok(Start::Later(fut, slot))
            }
            Some(Obj::Conn(a)) | Some(Obj::Tx(a)) => {
                let op = match method {
                    "execute" => Op::Execute { sql, params },
                    "executemany" => Op::ExecuteMany { sql, rows },
                    _ => Op::Query { sql, params },
                };
                let rx = engine::enqueue(&a, op, &slot)?;
                let s = self.clone();
                let fut: BoxFut = Box::pin(async move {
                    match engine::answer(rx).await? {
                        Reply::RowCount(n) => Ok(json!({"rowcount": n})),
                        Reply::Cursor { cursor, columns } => {
                            let kid = s.put('k', Obj::Cursor(a, cursor));
                            Ok(json!({"cursor": kid, "columns": columns}))
                        }
                        _ => Err(Fail::misuse("internal: unexpected answer")),
                    }
                });
                Ok(Start::Later(fut, slot))
            }
            _ => Err(Fail::misuse(format!("no open engine, connection or transaction with id {on:?}"))),
        }
    }

    /// close_all ends what the connection made: requests in flight are
    /// dropped, engines closed (their server connections with them).
    async fn close_all(&self) {
        let inflight: Vec<InFlight> = self.inflight.lock().expect("inflight").drain().map(|(_, f)| f).collect();
        for f in inflight {
            f.answered.store(true, Ordering::SeqCst);
            f.slot.cancel();
            if let Some(a) = f.abort {
                a.abort();
            }
        }
        let objects: Vec<Obj> = self.objects.lock().expect("objects").drain().map(|(_, o)| o).collect();
        let mut engines = Vec::new();
        for o in objects {
            if let Obj::Engine(e) = o {
                engines.push(e);
            }
        }
        for e in engines {
            e.engine.close().await;
        }
    }
}

enum Start {
    Now(Result<Json, Fail>),
    Later(BoxFut, Arc<CancelSlot>),
}

