package pgwc;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

public class PlaceholdersTest {
    private static void converts(String in, String want, int... order) {
        Placeholders.Converted c = Placeholders.convert(in);
        assertEquals(in, want, c.sql());
        assertArrayEquals(in, order, c.order());
    }

    @Test
    public void numberedPlaceholdersBecomeQuestionMarks() {
        converts("SELECT $1::int8 + $2::int8", "SELECT ?::int8 + ?::int8", 0, 1);
        converts("INSERT INTO t (a, b) VALUES ($1,$2)", "INSERT INTO t (a, b) VALUES (?,?)", 0, 1);
    }

    @Test
    public void repeatedAndOutOfOrderPlaceholdersReorderParameters() {
        converts("SELECT $2, $1, $2", "SELECT ?, ?, ?", 1, 0, 1);
        converts("SELECT $10, $1", "SELECT ?, ?", 9, 0);
        assertEquals(10, Placeholders.convert("SELECT $10, $1").maxIndex());
    }

    @Test
    public void literalsIdentifiersCommentsAndDollarQuotesAreLeftAlone() {
        converts("SELECT '$1', $1", "SELECT '$1', ?", 0);
        converts("SELECT 'it''s $1', $1", "SELECT 'it''s $1', ?", 0);
        converts("SELECT E'\\' $1', $1", "SELECT E'\\' $1', ?", 0);
        converts("SELECT \"col$1\", \"a\"\"$2\" FROM t WHERE x = $1", "SELECT \"col$1\", \"a\"\"$2\" FROM t WHERE x = ?", 0);
        converts("SELECT $1 -- not $2\n, 2", "SELECT ? -- not $2\n, 2", 0);
        converts("SELECT /* a /* nested $2 */ still $3 */ $1", "SELECT /* a /* nested $2 */ still $3 */ ?", 0);
        converts("SELECT $$ $1 $$, $1", "SELECT $$ $1 $$, ?", 0);
        converts("SELECT $fn$ it's $1 $fn$, $1", "SELECT $fn$ it's $1 $fn$, ?", 0);
    }

    @Test
    public void aDollarInsideAnIdentifierIsNotAPlaceholder() {
        converts("SELECT a$1 FROM t", "SELECT a$1 FROM t");
    }

    @Test
    public void aLiteralQuestionMarkIsEscapedForPgjdbc() {
        converts("SELECT '{\"a\":1}'::jsonb ? 'a', $1", "SELECT '{\"a\":1}'::jsonb ?? 'a', ?", 0);
        converts("SELECT '?' , \"?\" -- ?", "SELECT '?' , \"?\" -- ?");
    }

    @Test
    public void anUnterminatedLiteralRunsToTheEnd() {
        converts("SELECT 'open $1", "SELECT 'open $1");
    }

    @Test
    public void placeholderAndParameterCountsMustAgree() {
        Placeholders.Converted c = Placeholders.convert("SELECT $1, $3");
        Fail f = assertThrows(Fail.class, () -> c.check(2));
        assertEquals(Fail.MISUSE, f.category);
        assertTrue(f.getMessage(), f.getMessage().contains("$3"));
        c.check(3);
        assertThrows(Fail.class, () -> Placeholders.convert("SELECT 1").check(1));
        Placeholders.convert("SELECT 1").check(0);
        assertEquals(Fail.MISUSE, assertThrows(Fail.class, () -> Placeholders.convert("SELECT $0")).category);
        assertEquals(Fail.MISUSE, assertThrows(Fail.class, () -> Placeholders.convert("SELECT $99999999999")).category);
    }
}
