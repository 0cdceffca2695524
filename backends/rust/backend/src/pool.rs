//! Server connections: one `Connector` per engine opens and tracks them;
//! `Pool` is the bounded pool of the pooled adapter (tokio-postgres has
//! none, and deadpool-postgres/bb8-postgres are not packaged by Debian): a
//! semaphore of `pool_max` permits and a stack of idle clients; `Raw` is
//! the baseline adapter's one bare client.

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::{AbortHandle, JoinHandle};
use tokio_postgres::{Client, Config, NoTls};

use crate::cancel::CancelSlot;
use crate::errors::Fail;

/// How long closing an engine waits for its idle connections to say goodbye.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// One server connection: the driver's client and the task that drives its
/// socket (tokio-postgres's `Connection`).
pub struct Conn {
    pub client: Client,
    task: JoinHandle<()>,
}

/// Connector opens the connections of one engine and can end them all.
pub struct Connector {
    config: Config,
    next: AtomicU64,
    live: Arc<Mutex<HashMap<u64, AbortHandle>>>,
}

impl Connector {
    /// new reads the suite's postgres:// DSN; application_name tags every
    /// connection (the suite counts them by it).
    pub fn new(dsn: &str, application_name: &str) -> Result<Connector, Fail> {
        // tokio-postgres's own parser; its errors never quote the password.
        let mut config = Config::from_str(dsn).map_err(|e| Fail::misuse(format!("DSN not accepted by tokio-postgres: {e}")))?;
        if !application_name.is_empty() {
            config.application_name(application_name);
        }
        Ok(Connector { config, next: AtomicU64::new(1), live: Arc::default() })
    }

    pub async fn connect(&self) -> Result<Conn, Fail> {
        let (client, connection) = self.config.connect(NoTls).await?;
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let live = self.live.clone();
        let task = tokio::spawn(async move {
            // Errors end the connection; the client then reports it closed.
            let _ = connection.await;
            live.lock().expect("live").remove(&id);
        });
        self.live.lock().expect("live").insert(id, task.abort_handle());
        Ok(Conn { client, task })
    }

    /// abort_all drops the socket of every connection still open.
    pub fn abort_all(&self) {
        for (_, h) in self.live.lock().expect("live").drain() {
            h.abort();
        }
    }
}

/// close_gracefully drops the clients (tokio-postgres then sends Terminate)
/// and waits, bounded, for their sockets to close.
async fn close_gracefully(conns: Vec<Conn>) {
    let tasks: Vec<JoinHandle<()>> = conns.into_iter().map(|c| c.task).collect();
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        for t in tasks {
            let _ = t.await;
        }
    })
    .await;
}

/// Pool bounds the engine's connections at max.
pub struct Pool {
    connector: Connector,
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<Conn>>,
    closed: AtomicBool,
    pub max: usize,
}

impl Pool {
    pub fn new(connector: Connector, max: usize) -> Arc<Pool> {
        Arc::new(Pool { connector, permits: Arc::new(Semaphore::new(max)), idle: Mutex::default(), closed: AtomicBool::new(false), max })
    }

    /// acquire waits for a permit, then reuses the most recently returned
    /// live connection or opens one.
    pub async fn acquire(self: &Arc<Pool>) -> Result<Lease, Fail> {
        let permit = self.permits.clone().acquire_owned().await.map_err(|_| Fail::misuse("the engine is closed"))?;
        loop {
            let c = self.idle.lock().expect("idle").pop();
            match c {
                Some(c) if c.client.is_closed() => continue, // the server ended it: drop it
                Some(c) => return Ok(Lease { conn: Some(c), pool: self.clone(), _permit: permit, slot: None }),
                None => break,
            }
        }
        let c = self.connector.connect().await?;
        Ok(Lease { conn: Some(c), pool: self.clone(), _permit: permit, slot: None })
    }

    pub async fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.permits.close();
        let idle: Vec<Conn> = std::mem::take(&mut *self.idle.lock().expect("idle"));
        close_gracefully(idle).await;
        // Connections still leased (a held conn, an open cursor) end now.
        self.connector.abort_all();
    }
}

/// Lease is a pooled connection out of the pool; dropping it returns it.
pub struct Lease {
    conn: Option<Conn>,
    pool: Arc<Pool>,
    _permit: OwnedSemaphorePermit,
    slot: Option<Arc<CancelSlot>>,
}

impl Lease {
    /// watch: if the request using the lease is cancelled, the connection
    /// is closed rather than reused (a late server-side cancel could
    /// otherwise hit the next borrower's statement).
    pub fn watch(&mut self, slot: &Arc<CancelSlot>) {
        self.slot = Some(slot.clone());
    }
}

impl Deref for Lease {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.conn.as_ref().expect("leased").client
    }
}

impl DerefMut for Lease {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.conn.as_mut().expect("leased").client
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(c) = self.conn.take() else { return };
        let cancelled = self.slot.as_ref().is_some_and(|s| s.is_cancelled());
        if self.pool.closed.load(Ordering::SeqCst) || c.client.is_closed() || cancelled {
            return; // dropping the client closes the connection
        }
        self.pool.idle.lock().expect("idle").push(c);
    }
}

/// Raw is the baseline adapter's engine: one bare tokio-postgres client
/// shared by the engine's statements (the driver pipelines concurrent
/// ones), reopened if the server closed it. A held conn gets a bare client
/// of its own, since a session cannot be shared.
pub struct Raw {
    pub connector: Connector,
    shared: tokio::sync::Mutex<Option<(Arc<Client>, JoinHandle<()>)>>,
}

impl Raw {
    pub fn new(connector: Connector) -> Arc<Raw> {
        Arc::new(Raw { connector, shared: tokio::sync::Mutex::new(None) })
    }

    pub async fn client(&self) -> Result<Arc<Client>, Fail> {
        let mut g = self.shared.lock().await;
        if let Some((c, _)) = g.as_ref() {
            if !c.is_closed() {
                return Ok(c.clone());
            }
        }
        let Conn { client, task } = self.connector.connect().await?;
        let c = Arc::new(client);
        *g = Some((c.clone(), task));
        Ok(c)
    }

    pub async fn close(&self) {
        let shared = self.shared.lock().await.take();
        if let Some((c, task)) = shared {
            // Only a client no cursor still reads from can say goodbye;
            // abort_all below ends the others.
            if Arc::strong_count(&c) == 1 {
                drop(c);
                let _ = tokio::time::timeout(CLOSE_GRACE, task).await;
            }
        }
        self.connector.abort_all();
    }
}

/// Held is a connection a protocol conn holds out of its engine.
pub enum Held {
    Pooled(Lease),
    Dedicated(Conn),
}

impl Deref for Held {
    type Target = Client;
    fn deref(&self) -> &Client {
        match self {
            Held::Pooled(l) => l,
            Held::Dedicated(c) => &c.client,
        }
    }
}

impl DerefMut for Held {
    fn deref_mut(&mut self) -> &mut Client {
        match self {
            Held::Pooled(l) => l,
            Held::Dedicated(c) => &mut c.client,
        }
    }
}

/// Borrowed is the connection one engine-level statement runs on.
pub enum Borrowed {
    Pooled(Lease),
    Shared(Arc<Client>),
}

impl Deref for Borrowed {
    type Target = Client;
    fn deref(&self) -> &Client {
        match self {
            Borrowed::Pooled(l) => l,
            Borrowed::Shared(c) => c,
        }
    }
}
