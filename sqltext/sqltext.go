// Package sqltext reads SQL text the way a server would, only as far as the
// suite needs: it finds the $n placeholders outside quoted literals, quoted
// identifiers, dollar quotes and comments, and writes values into them as
// literals. The observer uses it so that it never depends on how a server
// describes parameters (iris-pgwire calls every untyped $n "unknown").
package sqltext

import (
	"fmt"
	"strings"
)

// Segment is a stretch of SQL text: a placeholder ($N, with N in Param) or
// anything else, kept verbatim.
type Segment struct {
	Text  string
	Param int // 1-based placeholder number; 0 for plain text
}

// Split cuts sql into plain text and $n placeholders. A '$' that follows a
// letter, digit or '_' belongs to an identifier (col$1), not a placeholder.
func Split(sql string) []Segment {
	var out []Segment
	plain := func(s string) {
		if s == "" {
			return
		}
		if n := len(out); n > 0 && out[n-1].Param == 0 {
			out[n-1].Text += s
			return
		}
		out = append(out, Segment{Text: s})
	}
	i, n := 0, len(sql)
	for i < n {
		c := sql[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < n {
				if sql[j] == c {
					if j+1 < n && sql[j+1] == c {
						j += 2
						continue
					}
					break
				}
				j++
			}
			j = min(j+1, n)
			plain(sql[i:j])
			i = j
		case c == '-' && i+1 < n && sql[i+1] == '-':
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				j = n - i
			}
			plain(sql[i : i+j])
			i += j
		case c == '/' && i+1 < n && sql[i+1] == '*':
			j := strings.Index(sql[i+2:], "*/")
			end := n
			if j >= 0 {
				end = i + 2 + j + 2
			}
			plain(sql[i:end])
			i = end
		case c == '$' && !identChar(prev(sql, i)):
			if i+1 < n && isDigit(sql[i+1]) {
				j := i + 1
				num := 0
				for j < n && isDigit(sql[j]) {
					num = num*10 + int(sql[j]-'0')
					j++
				}
				out = append(out, Segment{Text: sql[i:j], Param: num})
				i = j
				continue
			}
			if tag, ok := dollarTag(sql[i:]); ok {
				end := strings.Index(sql[i+len(tag):], tag)
				stop := n
				if end >= 0 {
					stop = i + len(tag) + end + len(tag)
				}
				plain(sql[i:stop])
				i = stop
				continue
			}
			plain("$")
			i++
		default:
			j := i + 1
			for j < n && !strings.ContainsRune(`'"-/$`, rune(sql[j])) {
				j++
			}
			plain(sql[i:j])
			i = j
		}
	}
	return out
}

// Interpolate writes args into sql's placeholders as literals made by lit.
// Every placeholder must have an argument and every argument a placeholder.
func Interpolate(sql string, lit func(any) (string, error), args ...any) (string, error) {
	var b strings.Builder
	used := make([]bool, len(args))
	for _, s := range Split(sql) {
		if s.Param == 0 {
			b.WriteString(s.Text)
			continue
		}
		if s.Param > len(args) {
			return "", fmt.Errorf("placeholder $%d but %d argument(s)", s.Param, len(args))
		}
		l, err := lit(args[s.Param-1])
		if err != nil {
			return "", fmt.Errorf("argument $%d: %w", s.Param, err)
		}
		used[s.Param-1] = true
		b.WriteString(l)
	}
	for i, u := range used {
		if !u {
			return "", fmt.Errorf("argument $%d has no placeholder", i+1)
		}
	}
	return b.String(), nil
}

// Placeholders counts the distinct placeholders of sql (the highest $n).
func Placeholders(sql string) int {
	most := 0
	for _, s := range Split(sql) {
		most = max(most, s.Param)
	}
	return most
}

func prev(s string, i int) byte {
	if i == 0 {
		return ' '
	}
	return s[i-1]
}

func identChar(c byte) bool {
	return c == '_' || isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// dollarTag returns the opening $tag$ at the start of s.
func dollarTag(s string) (string, bool) {
	for j := 1; j < len(s); j++ {
		c := s[j]
		if c == '$' {
			return s[:j+1], true
		}
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 || j > 1 && isDigit(c)) {
			return "", false
		}
	}
	return "", false
}
