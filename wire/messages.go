package wire

import (
	"reflect"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Name is a message's type name ("ReadyForQuery").
func Name(m pgproto3.Message) string {
	if m == nil {
		return "nil"
	}
	return reflect.TypeOf(m).Elem().Name()
}

// Names lists the messages' type names, in order.
func Names(msgs []pgproto3.BackendMessage) []string {
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, Name(m))
	}
	return out
}

// Flow lists the type names of the messages that answer what was sent,
// leaving out those a server may send at any time (protocol "Asynchronous
// Operations": NoticeResponse, ParameterStatus, NotificationResponse), so a
// spec can compare the message flow exactly.
func Flow(msgs []pgproto3.BackendMessage) []string {
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		if !asynchronous(m) {
			out = append(out, Name(m))
		}
	}
	return out
}

func asynchronous(m pgproto3.BackendMessage) bool {
	switch m.(type) {
	case *pgproto3.NoticeResponse, *pgproto3.ParameterStatus, *pgproto3.NotificationResponse:
		return true
	}
	return false
}

// is reports whether m is a T (for Until).
func is[T pgproto3.BackendMessage](m pgproto3.BackendMessage) bool {
	_, ok := m.(T)
	return ok
}

// All returns the messages of type T, in order.
func All[T pgproto3.BackendMessage](msgs []pgproto3.BackendMessage) []T {
	var out []T
	for _, m := range msgs {
		if t, ok := m.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

// First returns the first message of type T, or the zero value.
func First[T pgproto3.BackendMessage](msgs []pgproto3.BackendMessage) T {
	var zero T
	if all := All[T](msgs); len(all) > 0 {
		return all[0]
	}
	return zero
}

// Tags lists the CommandComplete tags, in order.
func Tags(msgs []pgproto3.BackendMessage) []string {
	var out []string
	for _, m := range All[*pgproto3.CommandComplete](msgs) {
		out = append(out, string(m.CommandTag))
	}
	return out
}

// Codes lists the SQLSTATEs of the ErrorResponses, in order.
func Codes(msgs []pgproto3.BackendMessage) []string {
	var out []string
	for _, m := range All[*pgproto3.ErrorResponse](msgs) {
		out = append(out, m.Code)
	}
	return out
}

// Status is the transaction status of the last ReadyForQuery ("" when there
// is none): "I" idle, "T" in a transaction, "E" in a failed transaction.
func Status(msgs []pgproto3.BackendMessage) string {
	rs := All[*pgproto3.ReadyForQuery](msgs)
	if len(rs) == 0 {
		return ""
	}
	return string(rune(rs[len(rs)-1].TxStatus))
}

// Values returns the DataRows' values as strings (nil for NULL), as sent:
// text, or the raw bytes of a binary value.
func Values(msgs []pgproto3.BackendMessage) [][]*string {
	var out [][]*string
	for _, r := range All[*pgproto3.DataRow](msgs) {
		row := make([]*string, len(r.Values))
		for i, v := range r.Values {
			if v != nil {
				s := string(v)
				row[i] = &s
			}
		}
		out = append(out, row)
	}
	return out
}

// Text returns the DataRows' values as strings with "NULL" for NULL, for
// comparisons that print well.
func Text(msgs []pgproto3.BackendMessage) [][]string {
	var out [][]string
	for _, r := range Values(msgs) {
		row := make([]string, len(r))
		for i, v := range r {
			if v == nil {
				row[i] = "NULL"
			} else {
				row[i] = *v
			}
		}
		out = append(out, row)
	}
	return out
}

// Errors summarises the ErrorResponses ("42P01 relation … does not exist"),
// for failure messages.
func Errors(msgs []pgproto3.BackendMessage) []string {
	var out []string
	for _, m := range All[*pgproto3.ErrorResponse](msgs) {
		out = append(out, m.Code+" "+m.Message)
	}
	return out
}
