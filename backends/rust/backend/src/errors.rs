//! The protocol's error object (PROTOCOL.md §2) and how tokio-postgres's
//! errors map onto its categories.

use serde_json::{json, Value as Json};
use std::error::Error as StdError;

pub const PROTOCOL: &str = "protocol";
pub const MISUSE: &str = "misuse";
pub const SQL: &str = "sql";
pub const CONNECTION: &str = "connection";
pub const AUTHENTICATION: &str = "authentication";
pub const TIMEOUT: &str = "timeout";
pub const UNSUPPORTED: &str = "unsupported";

/// A failed request as the protocol reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Fail {
    pub category: &'static str,
    pub sqlstate: String,
    pub message: String,
    pub kind: Option<String>,
}

impl Fail {
    pub fn new(category: &'static str, message: impl Into<String>) -> Fail {
        Fail { category, sqlstate: String::new(), message: message.into(), kind: None }
    }
    pub fn protocol(m: impl Into<String>) -> Fail {
        Fail::new(PROTOCOL, m)
    }
    pub fn misuse(m: impl Into<String>) -> Fail {
        Fail::new(MISUSE, m)
    }
    pub fn unsupported(m: impl Into<String>) -> Fail {
        Fail::new(UNSUPPORTED, m)
    }
    pub fn timeout(m: impl Into<String>) -> Fail {
        Fail::new(TIMEOUT, m)
    }

    pub fn to_json(&self) -> Json {
        let mut e = json!({"category": self.category, "sqlstate": self.sqlstate, "message": self.message});
        if let Some(k) = &self.kind {
            e["type"] = Json::String(k.clone());
        }
        e
    }
}

impl From<crate::codec::Malformed> for Fail {
    fn from(m: crate::codec::Malformed) -> Fail {
        Fail::misuse(m.0)
    }
}

/// A column of a type this backend cannot read (category `unsupported`).
#[derive(Debug)]
pub struct UnsupportedType(pub String);

impl std::fmt::Display for UnsupportedType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no decoder for server type {}", self.0)
    }
}

impl StdError for UnsupportedType {}

/// category_of_sqlstate: PROTOCOL.md §2's categories for a server error.
pub fn category_of_sqlstate(code: &str) -> &'static str {
    if code.starts_with("28") {
        AUTHENTICATION
    } else if code == "57014" {
        TIMEOUT
    } else if code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03") {
        CONNECTION
    } else {
        SQL
    }
}

fn has_source<T: StdError + 'static>(e: &(dyn StdError + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(x) = cur {
        if x.is::<T>() {
            return true;
        }
        cur = x.source();
    }
    false
}

/// classify maps a tokio-postgres error onto the protocol's error object;
/// the message is the driver's own Display, cause included.
pub fn classify(e: &tokio_postgres::Error) -> Fail {
    let message = e.to_string();
    let kind = Some("tokio_postgres::error::Error".to_string());
    if let Some(db) = e.as_db_error() {
        let code = db.code().code().to_string();
        return Fail { category: category_of_sqlstate(&code), sqlstate: code, message, kind };
    }
    let category = if e.is_closed() || has_source::<std::io::Error>(e) {
        CONNECTION
    } else if has_source::<UnsupportedType>(e) {
        UNSUPPORTED
    } else {
        // The driver's kinds without a public accessor, by their Display
        // (tokio-postgres src/error/mod.rs).
        let m = message.as_str();
        if m.starts_with("error connecting to server") || m.starts_with("error communicating with the server") {
            CONNECTION
        } else if m.starts_with("authentication error") {
            AUTHENTICATION
        } else if m.starts_with("timeout waiting for server") {
            TIMEOUT
        } else if m.starts_with("invalid connection string")
            || m.starts_with("invalid configuration")
            || m.starts_with("error serializing parameter")
            || m.starts_with("expected ")
        {
            MISUSE
        } else if m.starts_with("error deserializing column") {
            UNSUPPORTED
        } else {
            CONNECTION
        }
    };
    Fail { category, sqlstate: String::new(), message, kind }
}

impl From<tokio_postgres::Error> for Fail {
    fn from(e: tokio_postgres::Error) -> Fail {
        classify(&e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_map_onto_categories() {
        for (code, want) in [
            ("28P01", AUTHENTICATION),
            ("28000", AUTHENTICATION),
            ("57014", TIMEOUT),
            ("08006", CONNECTION),
            ("57P01", CONNECTION),
            ("42601", SQL),
            ("23505", SQL),
            ("25P02", SQL),
        ] {
            assert_eq!(category_of_sqlstate(code), want, "{code}");
        }
    }

    #[test]
    fn error_object_shape() {
        let f = Fail::misuse("no open cursor with id \"k9\"");
        assert_eq!(f.to_json(), json!({"category": "misuse", "sqlstate": "", "message": "no open cursor with id \"k9\""}));
    }
}
