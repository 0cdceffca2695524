package config

import (
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// The run's secrets: every password the suite uses (the target's, a
// backend's, one a spec makes up) is registered once, and every string that
// leaves the process — a spec failure, a report, a log line — passes
// through Redact, which masks all of them. Redacting at the source means a
// driver error dumped whole by Gomega (pgconn's Config included) cannot
// leak what it holds.
var secrets struct {
	mu   sync.RWMutex
	list []string
}

// RegisterSecret adds s to the secrets Redact masks. Empty strings are
// ignored; registering twice is harmless.
func RegisterSecret(s string) {
	if s == "" {
		return
	}
	secrets.mu.Lock()
	defer secrets.mu.Unlock()
	for _, x := range secrets.list {
		if x == s {
			return
		}
	}
	secrets.list = append(secrets.list, s)
	// Longest first, so a secret that contains another is masked whole.
	sort.Slice(secrets.list, func(i, j int) bool { return len(secrets.list[i]) > len(secrets.list[j]) })
}

// RegisterDSN registers the password a DSN carries, in its plain and its
// URL-escaped forms.
func RegisterDSN(dsn string) {
	pw := passwordOf(dsn)
	RegisterSecret(pw)
	if esc := url.QueryEscape(pw); esc != pw {
		RegisterSecret(esc)
	}
	if esc := url.PathEscape(pw); esc != pw {
		RegisterSecret(esc)
	}
}

// minAnywhere is the length from which a secret is masked wherever it
// appears; a shorter one (IRIS's "SYS") only as a whole token, so that the
// user name "_SYSTEM" next to it stays readable.
const minAnywhere = 8

var (
	// A password written as a value: Go's %#v / %+v of a config struct
	// and JSON quote it (Password:"x", "password": "x"); key=value forms
	// need not (password=x). An unquoted "password: x" is prose, not a
	// secret ("authenticates with password: asks for …").
	fieldPassword = regexp.MustCompile(`(?i)(\bpassword"?\s*:\s*)("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(\bpassword"?\s*=\s*)("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,}&]+)`)
	// user:secret@ in any URL.
	urlPassword = regexp.MustCompile(`(://[^/@\s:]*:)([^@\s/]*)(@)`)
)

// Redact masks every registered secret in s, and any password written the
// way DSNs, URLs and dumped config structs write one (which catches secrets
// nobody registered).
func Redact(s string) string {
	if s == "" {
		return s
	}
	secrets.mu.RLock()
	list := secrets.list
	secrets.mu.RUnlock()
	for _, sec := range list {
		if !strings.Contains(s, sec) {
			continue
		}
		if len(sec) >= minAnywhere {
			s = strings.ReplaceAll(s, sec, Mask)
			continue
		}
		re := regexp.MustCompile(`(^|[^A-Za-z0-9_])` + regexp.QuoteMeta(sec) + `($|[^A-Za-z0-9_])`)
		// Twice: adjacent matches share the separator between them.
		s = re.ReplaceAllString(s, "${1}"+Mask+"${2}")
		s = re.ReplaceAllString(s, "${1}"+Mask+"${2}")
	}
	s = urlPassword.ReplaceAllString(s, "${1}"+Mask+"${3}")
	return fieldPassword.ReplaceAllStringFunc(s, func(m string) string {
		sub := fieldPassword.FindStringSubmatch(m)
		key, val := sub[1], sub[2]
		if key == "" {
			key, val = sub[3], sub[4]
		}
		if strings.Trim(val, `"'`) == "" || strings.Trim(val, `"'`) == Mask {
			return m
		}
		return key + Mask
	})
}
