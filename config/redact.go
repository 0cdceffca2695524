package config

import (
	"net/url"
	"regexp"
	"strings"
)

// Mask replaces every secret the suite prints.
const Mask = "xxxxx"

var kvPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s]*)`)

// RedactDSN hides the password in a connection string, in URL form
// (postgres://user:secret@host/db, or ?password=) or keyword/value form
// (password=secret). Anything it cannot parse comes back masked whole rather
// than risk leaking a secret.
func RedactDSN(dsn string) string {
	if dsn == "" {
		return ""
	}
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return Mask
		}
		if u.User != nil {
			if _, has := u.User.Password(); has {
				u.User = url.UserPassword(u.User.Username(), Mask)
			}
		}
		q := u.Query()
		for k := range q {
			if strings.EqualFold(k, "password") {
				q.Set(k, Mask)
			}
		}
		u.RawQuery = q.Encode()
		// url.URL.String escapes the mask's characters nowhere, so it stays readable.
		return u.String()
	}
	return kvPassword.ReplaceAllString(dsn, "${1}"+Mask)
}

// RedactText hides every password that a DSN embedded in free text (an error
// message, a log line) would carry.
func RedactText(s, dsn string) string {
	if dsn == "" {
		return s
	}
	if pw := passwordOf(dsn); pw != "" {
		// Whole tokens only: a short password such as "SYS" must not
		// garble "_SYSTEM" (the user name it often sits next to).
		re := regexp.MustCompile(`(^|[^A-Za-z0-9_])` + regexp.QuoteMeta(pw) + `($|[^A-Za-z0-9_])`)
		s = re.ReplaceAllString(s, "${1}"+Mask+"${2}")
	}
	return s
}

func passwordOf(dsn string) string {
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return ""
		}
		if u.User != nil {
			if pw, ok := u.User.Password(); ok {
				return pw
			}
		}
		return u.Query().Get("password")
	}
	m := kvPassword.FindStringSubmatch(dsn)
	if m == nil {
		return ""
	}
	return strings.Trim(m[2], "'")
}
