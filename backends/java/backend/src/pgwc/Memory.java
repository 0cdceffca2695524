package pgwc;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** process.memory: the backend's resident set (VmRSS) and its peak (VmHWM), from /proc. */
final class Memory {
    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

    private Memory() {}

    static ObjectNode read(boolean resetPeak) {
        long rss = -1;
        long hwm = -1;
        try {
            for (String l : Files.readAllLines(STATUS)) {
                if (l.startsWith("VmRSS:")) {
                    rss = kib(l);
                } else if (l.startsWith("VmHWM:")) {
                    hwm = kib(l);
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new Fail(Fail.UNSUPPORTED, "cannot read " + STATUS + ": " + e.getMessage());
        }
        if (rss < 0 || hwm < 0) {
            throw new Fail(Fail.UNSUPPORTED, STATUS + " has no VmRSS/VmHWM");
        }
        if (resetPeak) {
            try {
                // "5" resets the peak resident set size to the current one (proc(5)).
                Files.writeString(CLEAR_REFS, "5");
            } catch (IOException | RuntimeException e) {
                throw new Fail(Fail.UNSUPPORTED, "cannot reset the peak through " + CLEAR_REFS + ": " + e.getMessage());
            }
        }
        ObjectNode out = Json.object();
        out.put("rss_bytes", rss);
        out.put("peak_rss_bytes", hwm);
        return out;
    }

    private static long kib(String line) {
        String[] f = line.trim().split("\\s+");
        return Long.parseLong(f[1]) * 1024;
    }
}
