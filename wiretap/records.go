package wiretap

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Direction tells which way a message went.
type Direction int8

const (
	ToServer Direction = iota // client → server
	ToClient                  // server → client
)

func (d Direction) String() string {
	if d == ToServer {
		return "→"
	}
	return "←"
}

// Record is one message (or tap event) on a client connection. Client messages are kept as the
// client sent them, server messages as the client received them.
type Record struct {
	Seq  uint64
	Time time.Time
	Conn int
	Dir  Direction
	Name string // pgproto3 type name, or an event: "SSLRequest", "SSLResponse", "Reset", …
	Size int    // bytes on the wire, header included
	// Msg is the decoded message (nil for events). Passwords and SASL data are removed.
	Msg  pgproto3.Message
	Note string // "proxy reply", "rewritten", "not forwarded", …
	text string // summary fixed at record time (redacted messages, events)
	// Count is how many consecutive messages of this name on this
	// connection the record stands for (a run of DataRows is kept as one
	// record); 0 or 1 for a single message.
	Count int
}

// Summary is the message in one line: its name and the fields that matter.
func (r Record) Summary() string {
	s := r.text
	if s == "" {
		s = summarize(r.Name, r.Msg)
	}
	if r.Note != "" {
		s += " [" + r.Note + "]"
	}
	return s
}

// String is a transcript line: "12:03:04.123 c2 → Query \"SELECT 1\"".
func (r Record) String() string {
	return fmt.Sprintf("%s c%d %s %s", r.Time.Format("15:04:05.000"), r.Conn, r.Dir, r.Summary())
}

// ring keeps the last cap records.
type ring struct {
	buf  []Record
	next int
	full bool
}

func (g *ring) add(r Record, capacity int) {
	if last := g.last(); last != nil && r.Name == "DataRow" && last.Name == "DataRow" && last.Conn == r.Conn && last.Note == r.Note && last.Dir == r.Dir {
		last.Count = max(last.Count, 1) + 1
		return
	}
	if len(g.buf) < capacity && !g.full {
		g.buf = append(g.buf, r)
		if len(g.buf) == capacity {
			g.full, g.next = true, 0
		}
		return
	}
	g.buf[g.next] = r
	g.next = (g.next + 1) % len(g.buf)
}

// last is the newest record, nil when there is none.
func (g *ring) last() *Record {
	switch {
	case len(g.buf) == 0:
		return nil
	case g.full:
		return &g.buf[(g.next+len(g.buf)-1)%len(g.buf)]
	}
	return &g.buf[len(g.buf)-1]
}

func (g *ring) all() []Record {
	out := make([]Record, 0, len(g.buf))
	if g.full {
		out = append(out, g.buf[g.next:]...)
		out = append(out, g.buf[:g.next]...)
		return out
	}
	return append(out, g.buf...)
}

// Records returns the kept records, oldest first (at most Options.MaxRecords).
func (t *Tap) Records() []Record {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.records.all()
}

// Transcript returns the last n lines of the transcript (all when n <= 0). Runs of DataRows on
// a connection collapse into one line ("← DataRow ×998 …").
func (t *Tap) Transcript(n int) []string {
	return TranscriptLines(t.Records(), n)
}

// TranscriptLines renders records as Transcript does.
func TranscriptLines(recs []Record, n int) []string {
	var lines []string
	for i := 0; i < len(recs); {
		r := recs[i]
		j := i + 1
		run := max(r.Count, 1)
		if r.Name == "DataRow" {
			for j < len(recs) && recs[j].Name == "DataRow" && recs[j].Conn == r.Conn && recs[j].Note == r.Note {
				run += max(recs[j].Count, 1)
				j++
			}
		}
		if run > 1 {
			lines = append(lines, fmt.Sprintf("%s c%d %s DataRow ×%d, first %s", r.Time.Format("15:04:05.000"),
				r.Conn, r.Dir, run, strings.TrimPrefix(r.Summary(), "DataRow ")))
		} else {
			lines = append(lines, r.String())
		}
		i = j
	}
	if n > 0 && len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// redact returns what a record may keep of m: secrets never reach records or transcripts.
func redact(m pgproto3.Message) (kept pgproto3.Message, text string) {
	switch m := m.(type) {
	case *pgproto3.PasswordMessage:
		return &pgproto3.PasswordMessage{Password: "[redacted]"}, "PasswordMessage [redacted]"
	case *pgproto3.SASLInitialResponse:
		return &pgproto3.SASLInitialResponse{AuthMechanism: m.AuthMechanism},
			fmt.Sprintf("SASLInitialResponse %s (%d bytes)", m.AuthMechanism, len(m.Data))
	case *pgproto3.SASLResponse:
		return &pgproto3.SASLResponse{}, fmt.Sprintf("SASLResponse (%d bytes)", len(m.Data))
	case *pgproto3.GSSResponse:
		return &pgproto3.GSSResponse{}, fmt.Sprintf("GSSResponse (%d bytes)", len(m.Data))
	case *pgproto3.AuthenticationSASLContinue:
		return &pgproto3.AuthenticationSASLContinue{}, fmt.Sprintf("AuthenticationSASLContinue (%d bytes)", len(m.Data))
	case *pgproto3.AuthenticationSASLFinal:
		return &pgproto3.AuthenticationSASLFinal{}, fmt.Sprintf("AuthenticationSASLFinal (%d bytes)", len(m.Data))
	case *pgproto3.AuthenticationGSSContinue:
		return &pgproto3.AuthenticationGSSContinue{}, fmt.Sprintf("AuthenticationGSSContinue (%d bytes)", len(m.Data))
	}
	return m, ""
}

const maxSQLPreview = 200

func summarize(name string, m pgproto3.Message) string {
	switch m := m.(type) {
	case nil:
		return name
	case *pgproto3.Query:
		return "Query " + quote(m.String, maxSQLPreview)
	case *pgproto3.Parse:
		s := fmt.Sprintf("Parse %s %s", quote(m.Name, 40), quote(m.Query, maxSQLPreview))
		if len(m.ParameterOIDs) > 0 {
			s += fmt.Sprintf(" oids=%v", m.ParameterOIDs)
		}
		return s
	case *pgproto3.Bind:
		return fmt.Sprintf("Bind portal=%s stmt=%s params=%d formats=%v results=%v", quote(m.DestinationPortal, 40),
			quote(m.PreparedStatement, 40), len(m.Parameters), m.ParameterFormatCodes, m.ResultFormatCodes)
	case *pgproto3.Describe:
		return fmt.Sprintf("Describe %c %s", m.ObjectType, quote(m.Name, 40))
	case *pgproto3.Close:
		return fmt.Sprintf("Close %c %s", m.ObjectType, quote(m.Name, 40))
	case *pgproto3.Execute:
		return fmt.Sprintf("Execute %s max=%d", quote(m.Portal, 40), m.MaxRows)
	case *pgproto3.CopyData:
		return fmt.Sprintf("CopyData (%d bytes)", len(m.Data))
	case *pgproto3.CopyFail:
		return "CopyFail " + quote(m.Message, maxSQLPreview)
	case *pgproto3.FunctionCall:
		return fmt.Sprintf("FunctionCall oid=%d args=%d", m.Function, len(m.Arguments))
	case *pgproto3.StartupMessage:
		return "StartupMessage " + formatParams(m.Parameters)
	case *pgproto3.CancelRequest:
		return fmt.Sprintf("CancelRequest pid=%d", m.ProcessID)
	case *pgproto3.CommandComplete:
		return "CommandComplete " + quote(string(m.CommandTag), 80)
	case *pgproto3.ReadyForQuery:
		return "ReadyForQuery " + string(rune(m.TxStatus))
	case *pgproto3.ErrorResponse:
		sev := ""
		if m.Severity != "ERROR" {
			sev = m.Severity + " "
		}
		return fmt.Sprintf("ErrorResponse %s%s %s", sev, m.Code, clip(m.Message, maxSQLPreview))
	case *pgproto3.NoticeResponse:
		return fmt.Sprintf("NoticeResponse %s %s %s", m.Severity, m.Code, clip(m.Message, maxSQLPreview))
	case *pgproto3.DataRow:
		if m.Values == nil {
			return "DataRow"
		}
		return "DataRow " + previewRow(m.Values)
	case *pgproto3.RowDescription:
		var b strings.Builder
		b.WriteString("RowDescription [")
		for i, f := range m.Fields {
			if i > 0 {
				b.WriteByte(' ')
			}
			if i == 8 {
				fmt.Fprintf(&b, "… %d more", len(m.Fields)-8)
				break
			}
			fmt.Fprintf(&b, "%s:%d", clip(string(f.Name), 24), f.DataTypeOID)
			if f.Format != 0 {
				b.WriteString("/bin")
			}
		}
		b.WriteByte(']')
		return b.String()
	case *pgproto3.ParameterDescription:
		return fmt.Sprintf("ParameterDescription %v", m.ParameterOIDs)
	case *pgproto3.ParameterStatus:
		return fmt.Sprintf("ParameterStatus %s=%s", m.Name, clip(m.Value, 60))
	case *pgproto3.BackendKeyData:
		return fmt.Sprintf("BackendKeyData pid=%d", m.ProcessID)
	case *pgproto3.AuthenticationSASL:
		return fmt.Sprintf("AuthenticationSASL %v", m.AuthMechanisms)
	case *pgproto3.NotificationResponse:
		return fmt.Sprintf("NotificationResponse %s %s", m.Channel, quote(m.Payload, 60))
	case *pgproto3.CopyInResponse:
		return fmt.Sprintf("CopyInResponse format=%d columns=%d", m.OverallFormat, len(m.ColumnFormatCodes))
	case *pgproto3.CopyOutResponse:
		return fmt.Sprintf("CopyOutResponse format=%d columns=%d", m.OverallFormat, len(m.ColumnFormatCodes))
	case *pgproto3.NegotiateProtocolVersion:
		return fmt.Sprintf("NegotiateProtocolVersion 3.%d %v", m.NewestMinorProtocol, m.UnrecognizedOptions)
	}
	return name
}

func formatParams(p map[string]string) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%s", k, clip(p[k], 60))
	}
	return b.String()
}

func previewRow(vals [][]byte) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, v := range vals {
		if i > 0 {
			b.WriteString(", ")
		}
		if i == 4 {
			fmt.Fprintf(&b, "… %d more", len(vals)-4)
			break
		}
		b.WriteString(previewValue(v))
	}
	b.WriteByte(')')
	return b.String()
}

func previewValue(v []byte) string {
	if v == nil {
		return "NULL"
	}
	printable := utf8.Valid(v)
	for _, c := range v {
		if c < 0x20 && c != '\t' && c != '\n' {
			printable = false
			break
		}
	}
	if printable {
		return quote(string(v), 24)
	}
	const maxHex = 12
	if len(v) > maxHex {
		return fmt.Sprintf("0x%x…(%d bytes)", v[:maxHex], len(v))
	}
	return fmt.Sprintf("0x%x", v)
}

func quote(s string, limit int) string {
	return strconv.Quote(clip(s, limit))
}

// clip shortens s to about limit runes, marking the cut.
func clip(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	r := []rune(s)
	return string(r[:limit]) + "…"
}
