//! pgwire-conformance backend for tokio-postgres: serves PROTOCOL.md (at
//! the repository's top) for two adapters, `tokio-postgres` (async, a
//! bounded pool of clients) and `tokio-postgres-raw` (one bare client, the
//! FR-013 baseline).

pub mod cancel;
pub mod codec;
pub mod engine;
pub mod errors;
pub mod memory;
pub mod pgvalues;
pub mod pool;
pub mod session;

pub use session::serve;
