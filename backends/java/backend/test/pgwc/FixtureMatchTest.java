package pgwc;

import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;

import org.junit.Test;

/** The replayer's matcher can fail: each rule of the README, broken once. */
public class FixtureMatchTest {
    private static String match(String pattern, String response) throws Exception {
        return FixtureReplay.match(Json.parse(pattern), response);
    }

    @Test
    public void matchesByTheReadmeRules() throws Exception {
        assertNull(match("{\"id\":1,\"result\":\"<any>\"}", "{\"id\":1,\"result\":{\"x\":[1]}}"));
        assertNull(match("{\"id\":1,\"error\":{\"category\":\"misuse\",\"sqlstate\":\"\",\"message\":\"<any>\"}}",
                "{\"id\":1,\"error\":{\"category\":\"misuse\",\"sqlstate\":\"\",\"message\":\"m\",\"type\":\"T\"}}"));
        assertNull(match("{\"a\":\"<absent-or-any>\"}", "{}"));
        assertNull(match("{\"v\":1e300}", "{\"v\":1.0E300}"));
        assertNull(match("{\"v\":-0.0}", "{\"v\":-0.0}"));
    }

    @Test
    public void reportsEveryKindOfMismatch() throws Exception {
        assertNotNull(match("{\"v\":2.0}", "{\"v\":2}"));
        assertNotNull(match("{\"v\":2}", "{\"v\":2.0}"));
        assertNotNull(match("{\"v\":-0.0}", "{\"v\":0.0}"));
        assertNotNull(match("{\"v\":1}", "{\"v\":1,\"w\":2}"));
        assertNotNull(match("{\"v\":1,\"w\":2}", "{\"v\":1}"));
        assertNotNull(match("{\"result\":{\"type\":1}}", "{\"result\":{}}"));
        assertNotNull(match("{\"v\":{\"category\":\"x\"}}", "{\"v\":{\"category\":\"x\",\"type\":\"T\"}}"));
        assertNotNull(match("{\"v\":[1,2]}", "{\"v\":[1]}"));
        assertNotNull(match("{\"v\":\"a\"}", "{\"v\":\"b\"}"));
        assertNotNull(match("{\"v\":null}", "{\"v\":\"null\"}"));
        assertNotNull(match("{\"v\":1}", "not json"));
    }
}
