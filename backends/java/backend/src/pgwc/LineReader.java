package pgwc;

import java.io.IOException;
import java.io.InputStream;

/**
 * Reads newline-terminated messages of at most {@code max} bytes, newline
 * included (PROTOCOL.md §1); a \r before the newline is dropped.
 */
final class LineReader {
    /** A line over the limit: the stream is out of step. */
    static final class TooLarge extends IOException {
        private static final long serialVersionUID = 1L;

        TooLarge(int max) {
            super("message exceeds the " + max + "-byte limit");
        }
    }

    private final InputStream in;
    private final int max;
    private final byte[] buf = new byte[64 * 1024];
    private int pos;
    private int lim;
    private byte[] line = new byte[8 * 1024];
    private int len;

    LineReader(InputStream in, int max) {
        this.in = in;
        this.max = max;
    }

    /** Reads the next line; false at the end of the stream (a partial last line is dropped). */
    boolean next() throws IOException {
        if (line.length > (1 << 20)) {
            line = new byte[8 * 1024]; // do not keep a 16 MiB buffer for small messages
        }
        len = 0;
        for (;;) {
            if (pos == lim) {
                int n = in.read(buf);
                if (n < 0) {
                    return false;
                }
                pos = 0;
                lim = n;
            }
            int i = pos;
            while (i < lim && buf[i] != '\n') {
                i++;
            }
            int chunk = i - pos;
            boolean found = i < lim;
            if (found ? len + chunk + 1 > max : len + chunk >= max) {
                throw new TooLarge(max);
            }
            append(pos, chunk);
            pos = found ? i + 1 : i;
            if (found) {
                if (len > 0 && line[len - 1] == '\r') {
                    len--;
                }
                return true;
            }
        }
    }

    byte[] bytes() {
        return line;
    }

    int length() {
        return len;
    }

    private void append(int from, int n) {
        if (len + n > line.length) {
            int size = line.length;
            while (size < len + n) {
                size *= 2;
            }
            byte[] grown = new byte[Math.min(size, max)];
            System.arraycopy(line, 0, grown, 0, len);
            line = grown;
        }
        System.arraycopy(buf, from, line, len, n);
        len += n;
    }
}
