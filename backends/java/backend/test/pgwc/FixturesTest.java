package pgwc;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * Replays every golden fixture (protocol/testdata/*.jsonl, mounted at
 * -Dpgwc.fixtures) against this backend, started in this JVM on a loopback
 * port: no database is involved.
 */
public class FixturesTest {
    private static Main.Server server;

    @BeforeClass
    public static void start() throws IOException {
        server = Main.Server.start("127.0.0.1:0");
        Thread t = new Thread(() -> {
            try {
                server.acceptLoop();
            } catch (IOException e) {
                // the server was closed
            }
        }, "fixture-server");
        t.setDaemon(true);
        t.start();
    }

    @AfterClass
    public static void stop() throws IOException {
        server.close();
    }

    private static Path dir() {
        String d = System.getProperty("pgwc.fixtures", "/fixtures");
        return Path.of(d);
    }

    @Test
    public void replaysEveryGoldenFixture() throws IOException {
        Path dir = dir();
        if (!Files.isDirectory(dir)) {
            fail("no golden fixtures at " + dir + ": mount protocol/testdata there (scripts/backend-unit-tests.sh does)");
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.toString().endsWith(".jsonl")).sorted().toList();
        }
        assertFalse("no *.jsonl in " + dir, files.isEmpty());
        List<String> errs = new ArrayList<>();
        for (Path f : files) {
            errs.addAll(FixtureReplay.replay(f.getFileName().toString(), Files.readString(f, StandardCharsets.UTF_8), "127.0.0.1", server.port()));
        }
        assertTrue(files.size() + " fixture files, mismatches:\n" + String.join("\n", errs), errs.isEmpty());
    }

    /** A broken fixture fails the replay: the check can fail. */
    @Test
    public void aWrongExpectationIsReported() throws IOException {
        String broken = "{\"name\":\"hello\",\"send\":{\"id\":1,\"method\":\"hello\",\"params\":{\"protocol\":1}},\"expect\":{\"id\":1,\"result\":{\"protocol\":1,\"backend\":\"<any>\"}}}\n"
                + "{\"name\":\"echo wrongly expected as a float\",\"send\":{\"id\":2,\"method\":\"echo\",\"params\":{\"value\":2}},\"expect\":{\"id\":2,\"result\":{\"value\":2.0}}}\n"
                + "{\"name\":\"a close that does not come\",\"send\":{\"id\":3,\"method\":\"echo\",\"params\":{\"value\":1}},\"expect\":{\"id\":3,\"result\":{\"value\":1}},\"expect_close\":true}\n";
        List<String> errs = FixtureReplay.replay("broken.jsonl", broken, "127.0.0.1", server.port(), 1000);
        assertEquals(String.join("\n", errs), 1, errs.stream().filter(e -> e.contains("echo wrongly expected")).count());
        assertEquals(String.join("\n", errs), 2, errs.size());
    }
}
