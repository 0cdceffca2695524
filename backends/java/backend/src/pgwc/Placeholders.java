package pgwc;

import java.util.Arrays;

/**
 * The suite writes placeholders as $1, $2, …; JDBC wants ?. Convert outside
 * string literals (standard and E'' escape strings), quoted identifiers,
 * dollar-quoted strings and comments (nested, as PostgreSQL nests them),
 * recording which parameter each ? binds: $n may repeat or come out of
 * order. A literal ? in the SQL text (jsonb's ? operators) is written ??,
 * pgjdbc's escape for it; pgjdbc leaves literals and comments alone too.
 */
final class Placeholders {
    /** sql for pgjdbc, and for each ? in order the 0-based index of its parameter. */
    record Converted(String sql, int[] order, int maxIndex) {
        /** Refuses a placeholder without a parameter and a parameter without a placeholder. */
        void check(int nparams) {
            if (maxIndex > nparams) {
                throw Fail.misuse("placeholder $" + maxIndex + " but " + nparams + " parameter(s)");
            }
            if (nparams > maxIndex) {
                throw Fail.misuse(nparams + " parameter(s) but the statement's highest placeholder is " + (maxIndex == 0 ? "none" : "$" + maxIndex));
            }
        }
    }

    private Placeholders() {}

    static Converted convert(String sql) {
        int n = sql.length();
        StringBuilder out = new StringBuilder(n + 8);
        int[] order = new int[8];
        int count = 0;
        int max = 0;
        int i = 0;
        while (i < n) {
            char c = sql.charAt(i);
            if (c == '\'') {
                boolean escapes = i > 0 && (sql.charAt(i - 1) == 'E' || sql.charAt(i - 1) == 'e')
                        && (i < 2 || !identChar(sql.charAt(i - 2)));
                int j = endOfQuoted(sql, i, '\'', escapes);
                out.append(sql, i, j);
                i = j;
            } else if (c == '"') {
                int j = endOfQuoted(sql, i, '"', false);
                out.append(sql, i, j);
                i = j;
            } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                int j = sql.indexOf('\n', i);
                j = j < 0 ? n : j;
                out.append(sql, i, j);
                i = j;
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                int j = endOfBlockComment(sql, i);
                out.append(sql, i, j);
                i = j;
            } else if (c == '$' && (i == 0 || !identChar(sql.charAt(i - 1)))) {
                if (i + 1 < n && isDigit(sql.charAt(i + 1))) {
                    int j = i + 1;
                    while (j < n && isDigit(sql.charAt(j))) {
                        j++;
                    }
                    int k;
                    try {
                        k = Integer.parseInt(sql.substring(i + 1, j));
                    } catch (NumberFormatException e) {
                        throw Fail.misuse("placeholder " + sql.substring(i, Math.min(j, i + 20)) + " is out of range");
                    }
                    if (k < 1) {
                        throw Fail.misuse("placeholder $" + k + ": placeholders count from $1");
                    }
                    if (count == order.length) {
                        order = Arrays.copyOf(order, count * 2);
                    }
                    order[count++] = k - 1;
                    max = Math.max(max, k);
                    out.append('?');
                    i = j;
                    continue;
                }
                int tagEnd = dollarTagEnd(sql, i);
                if (tagEnd > 0) {
                    String tag = sql.substring(i, tagEnd);
                    int close = sql.indexOf(tag, tagEnd);
                    int j = close < 0 ? n : close + tag.length();
                    out.append(sql, i, j);
                    i = j;
                } else {
                    out.append(c);
                    i++;
                }
            } else if (c == '?') {
                out.append("??");
                i++;
            } else {
                out.append(c);
                i++;
            }
        }
        return new Converted(out.toString(), Arrays.copyOf(order, count), max);
    }

    /** The index after a quoted run starting at start; doubled quotes stay inside. */
    private static int endOfQuoted(String sql, int start, char q, boolean backslashEscapes) {
        int n = sql.length();
        int j = start + 1;
        while (j < n) {
            char c = sql.charAt(j);
            if (backslashEscapes && c == '\\') {
                j += 2;
                continue;
            }
            if (c == q) {
                if (j + 1 < n && sql.charAt(j + 1) == q) {
                    j += 2;
                    continue;
                }
                return j + 1;
            }
            j++;
        }
        return n;
    }

    private static int endOfBlockComment(String sql, int start) {
        int n = sql.length();
        int depth = 0;
        int j = start;
        while (j < n) {
            if (sql.startsWith("/*", j)) {
                depth++;
                j += 2;
            } else if (sql.startsWith("*/", j)) {
                depth--;
                j += 2;
                if (depth == 0) {
                    return j;
                }
            } else {
                j++;
            }
        }
        return n;
    }

    /** For $tag$ or $$ at i, the index after the opening tag; else -1. */
    private static int dollarTagEnd(String sql, int i) {
        int n = sql.length();
        int j = i + 1;
        if (j < n && (Character.isLetter(sql.charAt(j)) || sql.charAt(j) == '_')) {
            j++;
            while (j < n && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '_')) {
                j++;
            }
        }
        return j < n && sql.charAt(j) == '$' ? j + 1 : -1;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean identChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == '$';
    }
}
