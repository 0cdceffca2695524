package pgwc;

import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.Test;

/** process.memory reports the heap too, and its peak follows what is retained. */
public class MemoryTest {
    @Test
    public void theHeapPeakSeesRetainedObjects() {
        ObjectNode before = Memory.read(true);
        assertTrue(before.get("heap_bytes").asLong() > 0);
        assertTrue(before.get("rss_bytes").asLong() > 0);
        byte[][] held = new byte[32][];
        for (int i = 0; i < held.length; i++) {
            held[i] = new byte[1 << 20]; // 32 MiB retained
        }
        ObjectNode after = Memory.read(false);
        long growth = after.get("peak_heap_bytes").asLong() - before.get("heap_bytes").asLong();
        assertTrue("peak heap grew only " + growth + " bytes with 32 MiB retained", growth >= 30L << 20);
        assertTrue(held[31].length == 1 << 20);
    }
}
