//! process.memory: the backend's own resident memory, so the suite can see
//! whether a streamed result was held whole here (Linux /proc only).

use serde_json::{json, Value as Json};

use crate::errors::Fail;

/// kib_field reads "Name:   123 kB" from /proc/self/status text, in bytes.
pub fn kib_field(status: &str, name: &str) -> Option<u64> {
    status.lines().find_map(|l| {
        let rest = l.strip_prefix(name)?.strip_prefix(':')?;
        let kb: u64 = rest.trim().strip_suffix("kB")?.trim().parse().ok()?;
        Some(kb * 1024)
    })
}

/// read returns resident and peak resident bytes; reset_peak then starts a
/// new peak (writing 5 to /proc/self/clear_refs resets VmHWM).
pub fn read(reset_peak: bool) -> Result<Json, Fail> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| Fail::unsupported(format!("process.memory needs /proc/self/status: {e}")))?;
    let rss = kib_field(&status, "VmRSS").ok_or_else(|| Fail::unsupported("no VmRSS in /proc/self/status"))?;
    let peak = kib_field(&status, "VmHWM").ok_or_else(|| Fail::unsupported("no VmHWM in /proc/self/status"))?;
    if reset_peak {
        std::fs::write("/proc/self/clear_refs", "5")
            .map_err(|e| Fail::unsupported(format!("cannot reset the peak through /proc/self/clear_refs: {e}")))?;
    }
    Ok(json!({"rss_bytes": rss, "peak_rss_bytes": peak}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_status_fields() {
        let s = "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n";
        assert_eq!(kib_field(s, "VmRSS"), Some(1024 * 1024));
        assert_eq!(kib_field(s, "VmHWM"), Some(2048 * 1024));
        assert_eq!(kib_field(s, "VmSwap"), None);
    }
}
