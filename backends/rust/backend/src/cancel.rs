//! Cancelling a request: the protocol's `cancel` and an expired
//! `timeout_ms` stop the request in the backend and, through the driver's
//! `CancelToken`, the statement it is running on the server.

use std::sync::{Arc, Mutex};
use tokio_postgres::{CancelToken, NoTls};

/// CancelSlot is shared by a request and whatever runs it: the code that
/// runs a statement parks its connection's cancel token here while it runs.
#[derive(Default)]
pub struct CancelSlot {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    token: Option<CancelToken>,
    cancelled: bool,
}

impl CancelSlot {
    pub fn new() -> Arc<CancelSlot> {
        Arc::new(CancelSlot::default())
    }

    /// running: a statement of the request now runs on the connection of token.
    pub fn running(&self, token: CancelToken) {
        self.inner.lock().expect("cancel slot").token = Some(token);
    }

    /// idle: the request's statement is over.
    pub fn idle(&self) {
        self.inner.lock().expect("cancel slot").token = None;
    }

    /// cancel marks the request cancelled and asks the server to cancel the
    /// statement it runs, if any (best effort, in the background).
    pub fn cancel(&self) {
        let token = {
            let mut g = self.inner.lock().expect("cancel slot");
            g.cancelled = true;
            g.token.take()
        };
        if let Some(t) = token {
            tokio::spawn(async move {
                let _ = t.cancel_query(NoTls).await;
            });
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.inner.lock().expect("cancel slot").cancelled
    }
}
