//! Replays the protocol's golden fixtures (protocol/testdata/*.jsonl, see
//! its README.md) against the backend in-process, without a database: one
//! fresh session per file over an in-memory duplex stream.
//!
//! The fixtures live outside this crate: PGWC_FIXTURES names their
//! directory (scripts/backend-unit-tests.sh mounts them into the image);
//! without it the repository's protocol/testdata is used. Finding no
//! fixture is a failure, not a pass.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value as Json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const MAX_LINE: usize = 16 * 1024 * 1024 + 64;
const DEADLINE: Duration = Duration::from_secs(30);

fn fixture_dir() -> PathBuf {
    match std::env::var_os("PGWC_FIXTURES") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../protocol/testdata"),
    }
}

fn fixture_files() -> Vec<PathBuf> {
    let dir = fixture_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("golden fixtures at {}: {e} (set PGWC_FIXTURES to protocol/testdata)", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *.jsonl fixtures in {}", dir.display());
    files
}

/// is_int: a JSON number written without '.', 'e' or 'E'.
fn is_int(n: &serde_json::Number) -> bool {
    !n.to_string().contains(['.', 'e', 'E'])
}

/// matches is README.md's pattern match; it returns the path of the first
/// difference.
fn matches(pat: &Json, got: Option<&Json>, path: &str, in_error: bool) -> Result<(), String> {
    if pat == &Json::String("<any>".into()) {
        return got.map(|_| ()).ok_or_else(|| format!("{path}: missing"));
    }
    if pat == &Json::String("<absent-or-any>".into()) {
        return Ok(());
    }
    let Some(got) = got else { return Err(format!("{path}: missing, want {pat}")) };
    match (pat, got) {
        (Json::Object(p), Json::Object(g)) => {
            for k in g.keys() {
                let ignorable = in_error && k == "type";
                if !p.contains_key(k) && !ignorable {
                    return Err(format!("{path}: unexpected key {k:?} in {got}"));
                }
            }
            for (k, pv) in p {
                matches(pv, g.get(k), &format!("{path}.{k}"), k == "error")?;
            }
            Ok(())
        }
        (Json::Array(p), Json::Array(g)) => {
            if p.len() != g.len() {
                return Err(format!("{path}: {} elements, want {}", g.len(), p.len()));
            }
            for (i, (pv, gv)) in p.iter().zip(g).enumerate() {
                matches(pv, Some(gv), &format!("{path}[{i}]"), false)?;
            }
            Ok(())
        }
        (Json::Number(p), Json::Number(g)) => {
            let same = if is_int(p) {
                is_int(g) && p.to_string().parse::<i128>().ok() == g.to_string().parse::<i128>().ok()
            } else {
                let (a, b) = (p.to_string().parse::<f64>().unwrap(), g.to_string().parse::<f64>().unwrap());
                !is_int(g) && a == b && a.is_sign_negative() == b.is_sign_negative()
            };
            if same { Ok(()) } else { Err(format!("{path}: {got}, want {pat}")) }
        }
        _ if pat == got => Ok(()),
        _ => Err(format!("{path}: {}, want {pat}", clip(&got.to_string()))),
    }
}

fn clip(s: &str) -> String {
    if s.len() > 200 { format!("{}…", &s[..s.char_indices().nth(200).map_or(s.len(), |(i, _)| i)]) } else { s.to_string() }
}

async fn replay(path: &PathBuf) -> Result<usize, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let (client, server) = tokio::io::duplex(256 * 1024);
    let (sr, sw) = tokio::io::split(server);
    let session = tokio::spawn(backend::serve(sr, sw));
    let (cr, cw) = tokio::io::split(client);
    let mut cw = Some(cw);
    let mut cr = BufReader::with_capacity(1 << 20, cr);
    let mut n = 0;
    for (lineno, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let ex: Json = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", lineno + 1))?;
        let name = ex["name"].as_str().unwrap_or("?").to_string();
        let at = |m: String| format!("{}:{} {name:?}: {m}", path.display(), lineno + 1);
        let mut w = cw.take().ok_or_else(|| at("a send after the connection was closed".into()))?;
        let mut big_writer = None;
        if let Some(req) = ex.get("send") {
            let mut b = serde_json::to_vec(req).unwrap();
            b.push(b'\n');
            w.write_all(&b).await.map_err(|e| at(e.to_string()))?;
            cw = Some(w);
        } else if let Some(raw) = ex.get("send_raw").and_then(Json::as_str) {
            w.write_all(format!("{raw}\n").as_bytes()).await.map_err(|e| at(e.to_string()))?;
            cw = Some(w);
        } else if let Some(big) = ex.get("send_big") {
            let (head, fill, tail) = (big["head"].as_str().unwrap(), big["fill"].as_str().unwrap(), big["tail"].as_str().unwrap());
            let size = big["size"].as_u64().unwrap() as usize;
            let mut b = Vec::with_capacity(size);
            b.extend_from_slice(head.as_bytes());
            b.resize(size - tail.len() - 1, fill.as_bytes()[0]);
            b.extend_from_slice(tail.as_bytes());
            b.push(b'\n');
            assert_eq!(b.len(), size);
            // Written concurrently with reading the answer; write errors are
            // ignored: the backend may stop reading an oversized line.
            big_writer = Some(tokio::spawn(async move {
                let _ = w.write_all(&b).await;
                let _ = w.flush().await;
                w
            }));
        } else {
            return Err(at("no send, send_raw or send_big".into()));
        }
        if let Some(pat) = ex.get("expect") {
            let mut buf = Vec::new();
            let read = tokio::time::timeout(DEADLINE, (&mut cr).take_while_line(&mut buf)).await;
            match read {
                Err(_) => return Err(at("no answer within 30 s".into())),
                Ok(Err(e)) => return Err(at(format!("read: {e}"))),
                Ok(Ok(0)) => return Err(at("the backend closed the connection instead of answering".into())),
                Ok(Ok(_)) => {}
            }
            if buf.len() > MAX_LINE {
                return Err(at(format!("answer of {} bytes is over the limit", buf.len())));
            }
            let got: Json = serde_json::from_slice(&buf).map_err(|e| at(format!("answer is not JSON ({e}): {}", clip(&String::from_utf8_lossy(&buf)))))?;
            matches(pat, Some(&got), "$", false).map_err(at)?;
        }
        if ex.get("expect_close") == Some(&Json::Bool(true)) {
            let mut rest = Vec::new();
            match tokio::time::timeout(DEADLINE, cr.read_until(b'\n', &mut rest)).await {
                Err(_) => return Err(at("the connection stayed open".into())),
                Ok(Ok(0)) | Ok(Err(_)) => {}
                Ok(Ok(_)) => return Err(at(format!("another line after the expected close: {}", clip(&String::from_utf8_lossy(&rest))))),
            }
        }
        if let Some(t) = big_writer {
            if ex.get("expect_close") == Some(&Json::Bool(true)) {
                t.abort(); // nothing is sent after the close
            } else {
                cw = Some(tokio::time::timeout(DEADLINE, t).await.map_err(|_| at("the big line was not read".into()))?.unwrap());
            }
        }
        n += 1;
    }
    drop(cw);
    drop(cr);
    tokio::time::timeout(DEADLINE, session).await.map_err(|_| format!("{}: the session did not end after the client left", path.display()))?.ok();
    Ok(n)
}

/// take_while_line reads one line (without its newline) into buf.
trait ReadLine {
    async fn take_while_line(self, buf: &mut Vec<u8>) -> std::io::Result<usize>;
}

impl<R: tokio::io::AsyncBufRead + Unpin> ReadLine for &mut R {
    async fn take_while_line(self, buf: &mut Vec<u8>) -> std::io::Result<usize> {
        let n = self.read_until(b'\n', buf).await?;
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        Ok(n)
    }
}

#[tokio::test]
async fn golden_fixtures() {
    let mut failures = Vec::new();
    let mut total = 0;
    for f in fixture_files() {
        match replay(&f).await {
            Ok(n) => {
                println!("{}: {n} exchanges", f.display());
                total += n;
            }
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{} fixture file(s) failed:\n{}", failures.len(), failures.join("\n"));
    assert!(total > 0, "no exchange replayed");
}

#[test]
fn the_matcher_can_fail() {
    let j = |s: &str| serde_json::from_str::<Json>(s).unwrap();
    assert!(matches(&j(r#"{"v":2.0}"#), Some(&j(r#"{"v":2}"#)), "$", false).is_err(), "2 is not 2.0");
    assert!(matches(&j(r#"{"v":-0.0}"#), Some(&j(r#"{"v":0.0}"#)), "$", false).is_err(), "-0.0 is not 0.0");
    assert!(matches(&j(r#"{"v":1e300}"#), Some(&j(r#"{"v":1.0E300}"#)), "$", false).is_ok());
    assert!(matches(&j(r#"{"v":"<any>"}"#), Some(&j(r#"{}"#)), "$", false).is_err(), "<any> needs the key");
    assert!(matches(&j(r#"{"error":{"category":"misuse"}}"#), Some(&j(r#"{"error":{"category":"misuse","type":"x"}}"#)), "$", false).is_ok());
    assert!(matches(&j(r#"{"a":1}"#), Some(&j(r#"{"a":1,"b":2}"#)), "$", false).is_err(), "extra keys fail");
}
