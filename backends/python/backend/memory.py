"""process.memory (PROTOCOL.md §4, "Process"): the process's resident set
size and its peak since the last reset, from /proc (Linux)."""


class Unsupported(Exception):
    pass


def read(reset_peak=False, status="/proc/self/status", clear_refs="/proc/self/clear_refs"):
    """{"rss_bytes", "peak_rss_bytes"} now; with reset_peak a new peak
    period starts after the reading (writing 5 to clear_refs resets VmHWM).
    Before a reset, memory freed but still resident is given back first:
    else a driver that buffers a result could fill memory an earlier one
    freed, and its growth would not show."""
    if reset_peak:
        _give_back()
    try:
        with open(status) as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        rss = _kb(fields["VmRSS"])
        peak = _kb(fields["VmHWM"])
    except (OSError, KeyError, ValueError) as e:
        raise Unsupported(f"cannot read the process's memory from {status}: {e}") from None
    if reset_peak:
        try:
            with open(clear_refs, "w") as f:
                f.write("5")
        except OSError as e:
            raise Unsupported(f"cannot reset the peak RSS through {clear_refs}: {e}") from None
    return {"rss_bytes": rss, "peak_rss_bytes": max(peak, rss)}


def _kb(field):
    n, unit = field.split()
    if unit != "kB":
        raise ValueError(f"unit {unit!r}")
    return int(n) * 1024


def _give_back():
    import ctypes
    import gc
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # glibc: free pages back to the kernel
    except (OSError, AttributeError):
        pass  # not glibc: the reading is only less tight
