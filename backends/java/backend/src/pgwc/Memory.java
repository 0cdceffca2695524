package pgwc;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * process.memory: the backend's resident set (VmRSS) and its peak (VmHWM), from /proc, and the
 * JVM's heap in use and its peak (the heap pools' peak usage). The resident set says little
 * about what the driver holds: the JVM keeps every heap page it once touched and grows its heap
 * at will, so the suite judges the heap, whose peak counts what was retained plus at most the
 * young generation's garbage (-Xmn8m).
 */
final class Memory {
    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

    private Memory() {}

    static ObjectNode read(boolean resetPeak) {
        if (resetPeak) {
            // A new measuring period starts from a collected heap: garbage
            // counted in its baseline and collected during the period would
            // hide as much of what the driver then retains.
            System.gc();
        }
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
        long heap = 0;
        long peakHeap = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                long used = pool.getUsage().getUsed();
                heap += used;
                // The JVM samples a pool's peak at collections: what was
                // allocated since the last one is in its usage now.
                peakHeap += Math.max(used, pool.getPeakUsage().getUsed());
            }
        }
        if (resetPeak) {
            for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
                if (pool.getType() == MemoryType.HEAP) {
                    pool.resetPeakUsage();
                }
            }
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
        out.put("heap_bytes", heap);
        out.put("peak_heap_bytes", peakHeap);
        return out;
    }

    private static long kib(String line) {
        String[] f = line.trim().split("\\s+");
        return Long.parseLong(f[1]) * 1024;
    }
}
