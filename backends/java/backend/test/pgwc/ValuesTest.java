package pgwc;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import org.junit.Test;
import org.postgresql.util.PGInterval;
import org.postgresql.util.PGobject;

public class ValuesTest {
    private static JsonNode json(String s) throws Exception {
        return Json.parse(s);
    }

    /** decode then encode, as echo does. */
    private static String echo(String in) throws Exception {
        return Values.encode(Values.decode(json(in))).toString();
    }

    @Test
    public void scalarsKeepTheirKind() throws Exception {
        assertEquals("null", echo("null"));
        assertEquals("true", echo("true"));
        assertEquals("42", echo("42"));
        assertEquals("2.0", echo("2.0"));
        assertEquals("-0.0", echo("-0.0"));
        assertEquals("\"\"", echo("\"\""));
        assertEquals("9007199254740991", echo("9007199254740991"));
    }

    @Test
    public void integersBeyondTwoTo53TravelAsInt8() throws Exception {
        assertEquals("{\"$int8\":\"9007199254740992\"}", echo("{\"$int8\":\"9007199254740992\"}"));
        assertEquals("42", echo("{\"$int8\":\"42\"}"));
        assertEquals("{\"$int8\":\"-9223372036854775808\"}", Values.encode(Long.MIN_VALUE).toString());
    }

    @Test
    public void nonFiniteFloatsAreTagged() throws Exception {
        assertEquals("{\"$float8\":\"NaN\"}", echo("{\"$float8\":\"NaN\"}"));
        assertEquals("{\"$float8\":\"-Infinity\"}", Values.encode(Double.NEGATIVE_INFINITY).toString());
        assertEquals("{\"$float8\":\"Infinity\"}", Values.encode(Float.POSITIVE_INFINITY).toString());
    }

    @Test
    public void numericKeepsScaleAndPlainNotation() throws Exception {
        assertEquals("{\"$numeric\":\"1.10\"}", echo("{\"$numeric\":\"1.10\"}"));
        assertEquals("{\"$numeric\":\"0.000000000000000000000000000001\"}", echo("{\"$numeric\":\"0.000000000000000000000000000001\"}"));
        assertEquals("{\"$numeric\":\"NaN\"}", echo("{\"$numeric\":\"NaN\"}"));
        assertEquals("{\"$numeric\":\"-Infinity\"}", echo("{\"$numeric\":\"-Infinity\"}"));
        assertEquals(new BigDecimal("1000000.00"), Values.decode(json("{\"$numeric\":\"1000000.00\"}")));
    }

    @Test
    public void timesComeBackWithMicrosecondsAndTheirOffset() throws Exception {
        assertEquals("{\"$timestamptz\":\"2026-01-02T03:04:05.123456+05:30\"}", echo("{\"$timestamptz\":\"2026-01-02T03:04:05.123456+05:30\"}"));
        assertEquals("{\"$timestamptz\":\"2026-01-02T03:04:05.000000+00:00\"}", echo("{\"$timestamptz\":\"2026-01-02T03:04:05Z\"}"));
        assertEquals("{\"$timestamp\":\"0001-01-01T00:00:00.000000\"}", echo("{\"$timestamp\":\"0001-01-01T00:00:00\"}"));
        assertEquals("{\"$time\":\"12:34:56.000000\"}", echo("{\"$time\":\"12:34:56\"}"));
        assertEquals("{\"$date\":\"0001-01-01\"}", echo("{\"$date\":\"0001-01-01\"}"));
        OffsetDateTime t = OffsetDateTime.of(2024, 2, 29, 23, 59, 58, 123456789, ZoneOffset.UTC);
        assertEquals("{\"$timestamptz\":\"2024-02-29T23:59:58.123456+00:00\"}", Values.encode(t).toString());
    }

    @Test
    public void bytesArraysVectorsJsonAndIntervals() throws Exception {
        assertEquals("{\"$bytes\":\"\"}", echo("{\"$bytes\":\"\"}"));
        assertEquals("{\"$bytes\":\"AP8K\"}", echo("{\"$bytes\":\"AP8K\"}"));
        assertEquals("{\"$array\":[1,null,\"x\",{\"$array\":[2.5]}]}", echo("{\"$array\":[1,null,\"x\",{\"$array\":[2.5]}]}"));
        assertEquals("{\"$vector\":[0.5,-2.25]}", echo("{\"$vector\":[0.5,-2.25]}"));
        assertEquals("{\"$json\":\"{\\\"b\\\": 1, \\\"a\\\": [1.50]}\"}", echo("{\"$json\":\"{\\\"b\\\": 1, \\\"a\\\": [1.50]}\"}"));
        assertEquals("{\"$interval_us\":\"-1\"}", echo("{\"$interval_us\":\"-1\"}"));
        assertEquals("{\"$uuid\":\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"}", echo("{\"$uuid\":\"A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11\"}"));
    }

    @Test
    public void driverValuesAreEncoded() throws Exception {
        PGobject vec = new PGobject();
        vec.setType("vector");
        vec.setValue("[1,0.5,-2]");
        assertEquals("\"[1,0.5,-2]\"", Values.encode(vec).toString());
        PGobject js = new PGobject();
        js.setType("jsonb");
        js.setValue("null");
        assertEquals("{\"$json\":\"null\"}", Values.encode(js).toString());
        assertEquals(5_400_000_000L + 7, Values.micros(new PGInterval(0, 0, 0, 1, 30, 0.000007)));
        assertEquals(86_400_000_000L * 31, Values.micros(new PGInterval(0, 1, 1, 0, 0, 0)));
        assertEquals("0.10000000149011612", Values.encode(0.1f).toString());
        assertEquals("{\"$array\":[{\"$date\":\"2026-01-02\"},null]}", Values.encode(Arrays.asList(LocalDate.of(2026, 1, 2), null)).toString());
        assertEquals("{\"$numeric\":\"100000\"}", Values.encode(new BigDecimal("1E+5")).toString());
    }

    @Test
    public void intervalsBindExactly() {
        PGInterval iv = Values.interval(new Values.Interval(5_400_000_007L));
        assertEquals(1, iv.getHours());
        assertEquals(30, iv.getMinutes());
        assertEquals(0, iv.getWholeSeconds());
        assertEquals(7, iv.getMicroSeconds());
        assertEquals(-1, Values.micros(Values.interval(new Values.Interval(-1))));
    }

    @Test
    public void vectorsBindAsPgvectorText() {
        assertEquals("[1,0.5,-2,0.001]", new Values.Vector(new double[] {1, 0.5, -2, 0.001}).text());
    }

    @Test
    public void parameterListsNameTheBadParameter() throws Exception {
        List<Object> ok = Values.decodeList(json("[1, null, \"x\"]"), "parameter");
        assertEquals(3, ok.size());
        assertNull(ok.get(1));
        Fail f = assertThrows(Fail.class, () -> Values.decodeList(json("[1, {\"$date\":\"2026-02-30\"}]"), "parameter"));
        assertTrue(f.getMessage(), f.getMessage().startsWith("parameter 2:"));
    }

    @Test
    public void malformedValuesAreMisuse() {
        String[] bad = {
            "{\"$date\":\"2026-02-30\"}", "{\"$date\":\"2026-1-2\"}", "{\"$date\":2026}", "{\"$nope\":\"x\"}",
            "{\"$int8\":\"1\",\"$date\":\"2026-01-02\"}", "{\"a\":1}", "{}", "[1,2]", "{\"$int8\":\"1.5\"}",
            "{\"$int8\":\"9223372036854775808\"}", "{\"$int8\":5}", "{\"$int8\":\"\"}", "{\"$int8\":\" 5\"}",
            "18446744073709551616", "{\"$float8\":\"inf\"}", "{\"$float8\":\"1d\"}", "{\"$numeric\":\"1,10\"}",
            "{\"$numeric\":\"\"}", "{\"$bytes\":\"***\"}", "{\"$bytes\":\"AP8\"}", "{\"$timestamptz\":\"2026-01-02 03:04:05+00:00\"}",
            "{\"$timestamptz\":\"2026-01-02T03:04:05\"}", "{\"$timestamp\":\"2026-01-02T03:04:05+01:00\"}",
            "{\"$time\":\"25:00:00\"}", "{\"$time\":\"12:34\"}", "{\"$timestamptz\":\"2026-01-02T03:04Z\"}", "{\"$interval_us\":\"1.5\"}", "{\"$uuid\":\"a0eebc999c0b4ef8bb6d6bb9bd380a11\"}",
            "{\"$json\":\"{nope\"}", "{\"$array\":\"x\"}", "{\"$array\":[[1]]}", "{\"$vector\":[\"a\"]}",
            "{\"$vector\":[{\"$float8\":\"NaN\"}]}",
        };
        for (String b : bad) {
            Fail f = assertThrows(b, Fail.class, () -> Values.decode(json(b)));
            assertEquals(b, Fail.MISUSE, f.category);
        }
    }
}
