//! Engines, statements, cursors and the tasks that serialise a held
//! connection's requests (PROTOCOL.md §4).
//!
//! Statements: `prepare` (the server infers the parameter types), then the
//! protocol's typed values are bound as those types (pgvalues::Param).
//! Cursors stream: `query_raw` returns the driver's `RowStream`, which reads
//! rows off the socket as they are fetched (tokio-postgres hands rows to it
//! through a channel of one message batch, so an unread result holds the
//! socket, not the heap). Before another statement runs on the same
//! connection, an unfinished cursor is read into memory, as a client-side
//! cursor would be.

use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;
use serde_json::{json, Value as Json};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::{CancelToken, GenericClient, Row, RowStream, Statement};

use crate::cancel::CancelSlot;
use crate::codec::{self, Value};
use crate::errors::{classify, Fail};
use crate::pgvalues::{Cell, Param};
use crate::pool::{Borrowed, Connector, Held, Pool, Raw};

pub const POOLED: &str = "tokio-postgres";
pub const RAW: &str = "tokio-postgres-raw";
pub const DEFAULT_POOL_MAX: usize = 10;

/// Engine is what engine.open makes: the pooled adapter's pool or the raw
/// adapter's bare client.
pub enum Engine {
    Pooled(Arc<Pool>),
    Raw(Arc<Raw>),
}

impl Engine {
    pub fn open(adapter: &str, dsn: &str, pool_max: usize, application_name: &str) -> Result<Engine, Fail> {
        let connector = Connector::new(dsn, application_name)?;
        match adapter {
            POOLED => Ok(Engine::Pooled(Pool::new(connector, if pool_max == 0 { DEFAULT_POOL_MAX } else { pool_max }))),
            RAW => Ok(Engine::Raw(Raw::new(connector))),
            other => Err(Fail::misuse(format!("unknown adapter {other:?} (this backend serves {POOLED}, {RAW})"))),
        }
    }

    /// borrow gets the connection one engine-level statement runs on.
    pub async fn borrow(&self, slot: &Arc<CancelSlot>) -> Result<Borrowed, Fail> {
        match self {
            Engine::Pooled(p) => {
                let mut l = p.acquire().await?;
                l.watch(slot);
                Ok(Borrowed::Pooled(l))
            }
            Engine::Raw(r) => Ok(Borrowed::Shared(r.client().await?)),
        }
    }

    /// hold gets a connection for conn.acquire.
    pub async fn hold(&self) -> Result<Held, Fail> {
        match self {
            Engine::Pooled(p) => Ok(Held::Pooled(p.acquire().await?)),
            Engine::Raw(r) => Ok(Held::Dedicated(r.connector.connect().await?)),
        }
    }

    pub fn introspect(&self) -> Json {
        let pool = match self {
            Engine::Pooled(_) => std::any::type_name::<Pool>(),
            Engine::Raw(_) => std::any::type_name::<Raw>(),
        };
        json!({"dialect": "", "is_async": true, "pool_class": pool,
               "connection_class": std::any::type_name::<tokio_postgres::Client>()})
    }

    pub async fn close(&self) {
        match self {
            Engine::Pooled(p) => p.close().await,
            Engine::Raw(r) => r.close().await,
        }
    }
}

/// Column as query reports it: name and server type name.
fn columns_of(stmt: &Statement) -> Vec<Json> {
    stmt.columns().iter().map(|c| json!({"name": c.name(), "type": c.type_().name()})).collect()
}

/// bind checks the parameter count against the prepared statement.
fn bind(stmt: &Statement, params: &[Value]) -> Result<Vec<Param>, Fail> {
    let want = stmt.params().len();
    if params.len() != want {
        return Err(Fail::misuse(format!(
            "the statement has {want} placeholder(s) but {} parameter(s) were given",
            params.len()
        )));
    }
    Ok(params.iter().cloned().map(Param).collect())
}

pub async fn execute<C: GenericClient + Sync>(c: &C, sql: &str, params: &[Value]) -> Result<u64, Fail> {
    let stmt = c.prepare(sql).await?;
    let ps = bind(&stmt, params)?;
    Ok(c.execute_raw(&stmt, ps.iter()).await?)
}

/// execute_many is the batch path tokio-postgres offers (it has no
/// executemany): one prepared statement, then one execution per row, all
/// issued at once, so the driver pipelines them on the connection. Each
/// execution is its own Bind/Execute/Sync: outside a transaction a failing
/// row does not undo the others, as with a loop. The first error (in row
/// order) is the answer.
pub async fn execute_many<C: GenericClient + Sync>(c: &C, sql: &str, rows: &[Vec<Value>]) -> Result<u64, Fail> {
    let stmt = c.prepare(sql).await?;
    let mut bound = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        bound.push(bind(&stmt, row).map_err(|f| Fail::misuse(format!("row {i}: {}", f.message)))?);
    }
    let stmt = &stmt;
    let results = futures_util::future::join_all(bound.iter().map(|ps| c.execute_raw(stmt, ps.iter()))).await;
    let mut total = 0u64;
    for r in results {
        total += r?;
    }
    Ok(total)
}

/// Cursor is an open result: rows already read, and the stream of the rest.
pub struct Cursor {
    pub columns: Vec<Json>,
    stream: Option<Pin<Box<RowStream>>>,
    buf: VecDeque<Row>,
    /// An error met while the rows were read ahead for another statement,
    /// reported at this cursor's next fetch.
    pending: Option<Fail>,
}

impl Cursor {
    /// open runs the query and reads its first row, so an error the server
    /// reports at once (division by zero, a sleep cancelled) is the query's.
    pub async fn open<C: GenericClient + Sync>(c: &C, sql: &str, params: &[Value]) -> Result<Cursor, Fail> {
        let stmt = c.prepare(sql).await?;
        let ps = bind(&stmt, params)?;
        let stream = c.query_raw(&stmt, ps.iter()).await?;
        let mut cur = Cursor { columns: columns_of(&stmt), stream: Some(Box::pin(stream)), buf: VecDeque::new(), pending: None };
        cur.fill(1).await?;
        Ok(cur)
    }

    /// streaming: rows may still be unread on the socket.
    pub fn streaming(&self) -> bool {
        self.stream.is_some()
    }

    async fn fill(&mut self, n: usize) -> Result<(), Fail> {
        while self.buf.len() < n {
            let Some(s) = self.stream.as_mut() else { break };
            match s.next().await {
                Some(Ok(row)) => self.buf.push_back(row),
                Some(Err(e)) => {
                    self.stream = None;
                    return Err(classify(&e));
                }
                None => self.stream = None,
            }
        }
        Ok(())
    }

    /// fetch returns up to n rows (all with None).
    pub async fn fetch(&mut self, n: Option<usize>) -> Result<Vec<Vec<Value>>, Fail> {
        if let Some(f) = self.pending.take() {
            return Err(f);
        }
        let n = n.unwrap_or(usize::MAX);
        let mut out = Vec::new();
        while out.len() < n {
            if self.buf.is_empty() {
                self.fill(1).await?;
            }
            let Some(row) = self.buf.pop_front() else { break };
            out.push(row_values(&row)?);
        }
        Ok(out)
    }

    /// read_ahead reads the rest of the result into memory.
    pub async fn read_ahead(&mut self) {
        if let Err(f) = self.fill(usize::MAX).await {
            self.pending = Some(f);
        }
    }
}

pub fn row_values(row: &Row) -> Result<Vec<Value>, Fail> {
    (0..row.len()).map(|i| row.try_get::<_, Cell>(i).map(|c| c.0).map_err(|e| classify(&e))).collect()
}

pub fn rows_json(rows: &[Vec<Value>]) -> Json {
    Json::Array(rows.iter().map(|r| Json::Array(r.iter().map(codec::encode).collect())).collect())
}

/// engine_query opens a cursor on a connection borrowed for it.
pub async fn engine_query(e: &Engine, sql: &str, params: &[Value], slot: &Arc<CancelSlot>) -> Result<(Cursor, Borrowed), Fail> {
    let b = e.borrow(slot).await?;
    slot.running(b.cancel_token());
    let r = Cursor::open(&*b, sql, params).await;
    slot.idle();
    Ok((r?, b))
}

pub async fn engine_execute(e: &Engine, sql: &str, params: &[Value], slot: &Arc<CancelSlot>) -> Result<u64, Fail> {
    let b = e.borrow(slot).await?;
    slot.running(b.cancel_token());
    let r = execute(&*b, sql, params).await;
    slot.idle();
    r
}

pub async fn engine_execute_many(e: &Engine, sql: &str, rows: &[Vec<Value>], slot: &Arc<CancelSlot>) -> Result<u64, Fail> {
    let b = e.borrow(slot).await?;
    slot.running(b.cancel_token());
    let r = execute_many(&*b, sql, rows).await;
    slot.idle();
    r
}

/// query_engine is the query request on an engine: a cursor opened on a
/// borrowed connection, owned by its own task (the cursor object).
pub async fn query_engine(e: &Engine, sql: &str, params: &[Value], slot: &Arc<CancelSlot>) -> Result<(Actor, Vec<Json>), Fail> {
    let (cur, borrowed) = engine_query(e, sql, params, slot).await?;
    let columns = cur.columns.clone();
    Ok((spawn_cursor(cur, borrowed), columns))
}

/// enqueue hands op to an object's task now, so requests on one object run
/// in arrival order; answer awaits what the task replies.
pub fn enqueue(actor: &Actor, op: Op, slot: &Arc<CancelSlot>) -> Result<oneshot::Receiver<Result<Reply, Fail>>, Fail> {
    let (tx, rx) = oneshot::channel();
    actor.send(Cmd { op, slot: slot.clone(), reply: tx }).map_err(|_| Fail::misuse("the connection is closed"))?;
    Ok(rx)
}

pub async fn answer(rx: oneshot::Receiver<Result<Reply, Fail>>) -> Result<Reply, Fail> {
    rx.await.unwrap_or_else(|_| Err(Fail::misuse("the connection is closed")))
}

/// bench runs, n times, the functions the query, cursor.fetchall and
/// cursor.close requests on the engine run (borrow, prepare, bind,
/// execute, the cursor's task, every row converted to values, the cursor
/// closed and the connection returned), each run timed here with the
/// monotonic clock. Left out, as PROTOCOL.md says: the protocol's own work
/// (reading the request, the cursor's id, encoding rows as JSON, sending).
pub async fn bench(e: &Engine, sql: &str, n: usize, slot: &Arc<CancelSlot>) -> Result<Vec<u64>, Fail> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let t0 = Instant::now();
        let (cursor, _columns) = query_engine(e, sql, &[], slot).await?;
        let rows = answer(enqueue(&cursor, Op::Fetch { cursor: 0, n: None }, slot)?).await?;
        std::hint::black_box(&rows);
        answer(enqueue(&cursor, Op::CloseCursor { cursor: 0 }, slot)?).await?;
        out.push(t0.elapsed().as_nanos().max(1) as u64);
    }
    Ok(out)
}

/// Op is one request a connection's task runs in arrival order.
pub enum Op {
    Execute { sql: String, params: Vec<Value> },
    ExecuteMany { sql: String, rows: Vec<Vec<Value>> },
    Query { sql: String, params: Vec<Value> },
    Fetch { cursor: u64, n: Option<usize> },
    CloseCursor { cursor: u64 },
    Begin,
    Commit,
    Rollback,
    Release,
}

/// Reply is what the task answers.
pub enum Reply {
    RowCount(u64),
    Cursor { cursor: u64, columns: Vec<Json> },
    Rows(Vec<Vec<Value>>),
    Done,
}

pub struct Cmd {
    pub op: Op,
    pub slot: Arc<CancelSlot>,
    pub reply: oneshot::Sender<Result<Reply, Fail>>,
}

impl Cmd {
    /// abandoned: the client cancelled or gave up before the task got to it.
    fn abandoned(&self) -> bool {
        self.slot.is_cancelled() || self.reply.is_closed()
    }
}

pub type Actor = mpsc::UnboundedSender<Cmd>;

/// Cursors of one connection; at most one streams at a time.
#[derive(Default)]
struct Cursors {
    open: HashMap<u64, Cursor>,
    next: u64,
}

impl Cursors {
    async fn read_ahead_all(&mut self) {
        for c in self.open.values_mut() {
            if c.streaming() {
                c.read_ahead().await;
            }
        }
    }
}

/// run_op runs a statement or cursor request on a client or transaction.
async fn run_op<C: GenericClient + Sync>(c: &C, cursors: &mut Cursors, op: Op, slot: &CancelSlot, token: &CancelToken) -> Result<Reply, Fail> {
    slot.running(token.clone());
    let r = match op {
        Op::Execute { sql, params } => {
            cursors.read_ahead_all().await;
            execute(c, &sql, &params).await.map(Reply::RowCount)
        }
        Op::ExecuteMany { sql, rows } => {
            cursors.read_ahead_all().await;
            execute_many(c, &sql, &rows).await.map(Reply::RowCount)
        }
        Op::Query { sql, params } => {
            cursors.read_ahead_all().await;
            match Cursor::open(c, &sql, &params).await {
                Ok(cur) => {
                    cursors.next += 1;
                    let key = cursors.next;
                    let columns = cur.columns.clone();
                    cursors.open.insert(key, cur);
                    Ok(Reply::Cursor { cursor: key, columns })
                }
                Err(f) => Err(f),
            }
        }
        Op::Fetch { cursor, n } => match cursors.open.get_mut(&cursor) {
            Some(cur) => cur.fetch(n).await.map(Reply::Rows),
            None => Err(Fail::misuse("the cursor is closed")),
        },
        Op::CloseCursor { cursor } => {
            cursors.open.remove(&cursor);
            Ok(Reply::Done)
        }
        Op::Begin | Op::Commit | Op::Rollback | Op::Release => Err(Fail::misuse("internal: not a statement")),
    };
    slot.idle();
    r
}

/// spawn_conn starts the task that owns a held connection and runs its
/// requests (and those of its transactions and cursors) in arrival order.
pub fn spawn_conn(held: Held) -> Actor {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(conn_task(held, rx));
    tx
}

async fn conn_task(mut held: Held, mut rx: mpsc::UnboundedReceiver<Cmd>) {
    let token = held.cancel_token();
    let mut cursors = Cursors::default();
    while let Some(cmd) = rx.recv().await {
        if cmd.abandoned() {
            continue;
        }
        match cmd.op {
            Op::Release => {
                let _ = cmd.reply.send(Ok(Reply::Done));
                return; // the held connection goes back to its engine
            }
            Op::Commit | Op::Rollback => {
                let _ = cmd.reply.send(Err(Fail::misuse("no transaction is open on this connection")));
            }
            Op::Begin => {
                cursors.read_ahead_all().await;
                cmd.slot.running(token.clone());
                let begun = held.transaction().await;
                cmd.slot.idle();
                let tx = match begun {
                    Ok(tx) => tx,
                    Err(e) => {
                        let _ = cmd.reply.send(Err(classify(&e)));
                        continue;
                    }
                };
                let _ = cmd.reply.send(Ok(Reply::Done));
                if !tx_loop(tx, &mut cursors, &mut rx, &token).await {
                    return;
                }
            }
            op => {
                let r = run_op(&*held, &mut cursors, op, &cmd.slot, &token).await;
                let _ = cmd.reply.send(r);
            }
        }
    }
}

/// tx_loop runs requests inside the driver's Transaction until commit or
/// rollback (true) or release (false: the connection task ends; dropping
/// the Transaction rolls it back).
async fn tx_loop(
    tx: tokio_postgres::Transaction<'_>,
    cursors: &mut Cursors,
    rx: &mut mpsc::UnboundedReceiver<Cmd>,
    token: &CancelToken,
) -> bool {
    while let Some(cmd) = rx.recv().await {
        if cmd.abandoned() {
            continue;
        }
        match cmd.op {
            Op::Commit | Op::Rollback => {
                let commit = matches!(cmd.op, Op::Commit);
                cursors.read_ahead_all().await;
                cmd.slot.running(token.clone());
                let r = if commit { tx.commit().await } else { tx.rollback().await };
                cmd.slot.idle();
                let _ = cmd.reply.send(r.map(|_| Reply::Done).map_err(|e| classify(&e)));
                return true;
            }
            Op::Release => {
                drop(tx);
                let _ = cmd.reply.send(Ok(Reply::Done));
                return false;
            }
            Op::Begin => {
                let _ = cmd.reply.send(Err(Fail::misuse("a transaction is already open on this connection")));
            }
            op => {
                let r = run_op(&tx, cursors, op, &cmd.slot, token).await;
                let _ = cmd.reply.send(r);
            }
        }
    }
    false
}

/// spawn_cursor starts the task that owns an engine-level cursor and the
/// connection borrowed for it; the connection goes back as soon as the
/// result is read to its end or the cursor is closed.
pub fn spawn_cursor(cur: Cursor, borrowed: Borrowed) -> Actor {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(cursor_task(cur, borrowed, rx));
    tx
}

async fn cursor_task(mut cur: Cursor, borrowed: Borrowed, mut rx: mpsc::UnboundedReceiver<Cmd>) {
    let token = borrowed.cancel_token();
    let mut borrowed = Some(borrowed);
    if !cur.streaming() {
        borrowed = None;
    }
    while let Some(cmd) = rx.recv().await {
        if cmd.abandoned() {
            continue;
        }
        match cmd.op {
            Op::Fetch { n, .. } => {
                cmd.slot.running(token.clone());
                let r = cur.fetch(n).await.map(Reply::Rows);
                cmd.slot.idle();
                if !cur.streaming() {
                    borrowed = None;
                }
                let _ = cmd.reply.send(r);
            }
            Op::CloseCursor { .. } => {
                drop(borrowed.take());
                let _ = cmd.reply.send(Ok(Reply::Done));
                return;
            }
            _ => {
                let _ = cmd.reply.send(Err(Fail::misuse("not a cursor request")));
            }
        }
    }
}
