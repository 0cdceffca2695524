// Records the versions describe reports: tokio-postgres's from Cargo.lock
// (the one really linked) and the compiler's.
use std::{env, fs, process::Command};

fn main() {
    println!("cargo:rerun-if-changed=Cargo.lock");
    let dir = env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let lock = fs::read_to_string(format!("{dir}/Cargo.lock")).unwrap_or_default();
    let version = locked_version(&lock, "tokio-postgres").unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=PGWC_TOKIO_POSTGRES_VERSION={version}");
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc).arg("--version").output().ok();
    let v = out
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.split_whitespace().nth(1).map(str::to_string))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=PGWC_RUSTC_VERSION={v}");
}

// locked_version finds `name = "<crate>"` in Cargo.lock and the version line after it.
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let want = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(l) = lines.next() {
        if l.trim() == want {
            let v = lines.next()?.trim();
            return v.strip_prefix("version = \"")?.strip_suffix('"').map(str::to_string);
        }
    }
    None
}
