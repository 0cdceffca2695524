package config

import (
	"strings"
	"testing"
)

func TestRedactDSN(t *testing.T) {
	tests := []struct {
		name, dsn, want string
	}{
		{"empty", "", ""},
		{"URL with password", "postgres://alice:s3cret@db:5432/app", "postgres://alice:xxxxx@db:5432/app"},
		{"URL with password and query", "postgres://alice:s3cret@db/app?sslmode=disable", "postgres://alice:xxxxx@db/app?sslmode=disable"},
		{"URL with escaped password", "postgres://alice:p%40ss@db/app", "postgres://alice:xxxxx@db/app"},
		{"URL with empty password", "postgres://alice:@db/app", "postgres://alice:xxxxx@db/app"},
		{"URL with ?password=", "postgres://alice@db/app?password=s3cret&sslmode=disable", "postgres://alice@db/app?password=xxxxx&sslmode=disable"},
		{"URL with ?PASSWORD=", "postgres://alice@db/app?PASSWORD=s3cret", "postgres://alice@db/app?PASSWORD=xxxxx"},
		{"URL without password", "postgres://alice@db:5432/app", "postgres://alice@db:5432/app"},
		{"URL without user", "postgresql://db/app?sslmode=require", "postgresql://db/app?sslmode=require"},
		{"unparseable URL", "postgres://alice:s3cret@db:notaport/app", Mask},
		{"unparseable URL escape", "postgres://alice:s3%zzcret@db/app", Mask},
		{"keyword/value", "host=db user=alice password=s3cret dbname=app", "host=db user=alice password=xxxxx dbname=app"},
		{"keyword/value last", "host=db password=s3cret", "host=db password=xxxxx"},
		{"keyword/value quoted", "host=db password='s e c r e t' dbname=app", "host=db password=xxxxx dbname=app"},
		{"keyword/value quoted escape", `host=db password='it\'s s3cret' dbname=app`, "host=db password=xxxxx dbname=app"},
		{"keyword/value spaces around =", "host=db password = s3cret dbname=app", "host=db password = xxxxx dbname=app"},
		{"keyword/value upper case", "host=db PASSWORD=s3cret", "host=db PASSWORD=xxxxx"},
		{"keyword/value without password", "host=db user=alice dbname=app", "host=db user=alice dbname=app"},
		{"keyword/value sslpassword untouched", "host=db sslpassword=keypass", "host=db sslpassword=keypass"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedactDSN(tt.dsn); got != tt.want {
				t.Errorf("RedactDSN(%q) = %q, want %q", tt.dsn, got, tt.want)
			}
		})
	}
}

func TestRedactDSNNeverLeaks(t *testing.T) {
	for _, dsn := range []string{
		"postgres://alice:s3cret@db/app",
		"postgres://alice:s3cret@db:notaport/app",
		"postgres://alice@db/app?password=s3cret",
		"host=db password=s3cret",
		"host=db password='s3cret'",
		"host=db password='s3cret with spaces'",
	} {
		if got := RedactDSN(dsn); strings.Contains(got, "s3cret") {
			t.Errorf("RedactDSN(%q) = %q leaks the password", dsn, got)
		}
	}
}

func TestRedactText(t *testing.T) {
	tests := []struct {
		name, text, dsn, want string
	}{
		{"URL password", "failed to connect to `user=alice password=s3cret`: refused", "postgres://alice:s3cret@db/app",
			"failed to connect to `user=alice password=xxxxx`: refused"},
		{"URL query password", "auth failed for s3cret", "postgres://alice@db/app?password=s3cret", "auth failed for xxxxx"},
		{"keyword/value password", "dial: s3cret and again s3cret", "host=db password=s3cret", "dial: xxxxx and again xxxxx"},
		{"quoted keyword/value password", "bad password: s e c r e t!", "host=db password='s e c r e t'", "bad password: xxxxx!"},
		{"no password", "connection refused", "postgres://alice@db/app", "connection refused"},
		{"no DSN", "s3cret stays", "", "s3cret stays"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedactText(tt.text, tt.dsn); got != tt.want {
				t.Errorf("RedactText(%q, %q) = %q, want %q", tt.text, tt.dsn, got, tt.want)
			}
		})
	}
}

// A short password must be hidden where it stands alone, without garbling a
// user name that contains it ("SYS" in "_SYSTEM").
func TestRedactTextShortPasswordWholeTokens(t *testing.T) {
	dsn := "postgres://_SYSTEM:SYS@127.0.0.1:1/USER"
	got := RedactText("failed to connect to `user=_SYSTEM database=USER` with password SYS", dsn)
	want := "failed to connect to `user=_SYSTEM database=USER` with password " + Mask
	if got != want {
		t.Errorf("RedactText = %q, want %q", got, want)
	}
}
