// Package wiretap is a TCP proxy for the PostgreSQL frontend/backend protocol. It sits between
// a client (a driver under test) and an upstream server, relays every message, decodes both
// directions with pgproto3 and keeps counters (messages, requests, round trips, connections),
// per-connection facts (TLS, authentication, statuses, command tags, errors, cancels) and a
// bounded transcript, so a test can see for itself what a driver did on the wire. It also
// injects faults (Faults) and can rewrite the conversation (Rewriter; see package divergent)
// to impersonate a divergent server.
//
//	tap, err := wiretap.Start(wiretap.Options{Upstream: "127.0.0.1:5432"})
//	defer tap.Close()
//	w := tap.Watch()
//	// … point the driver at tap.Addr() and run the workload …
//	s := w.Stop() // s.RoundTrips, s.FromClient["Sync"], s.CommandTags["COPY 100"], s.PeakOpen
//	t.Log(strings.Join(tap.Transcript(40), "\n"))
//
// What is counted and recorded is the client's side of the conversation: client messages as
// the client sent them, server messages as the client received them (after any Rewriter).
// The tap terminates TLS towards the client when Options.TLS is set (SSLRequest and direct
// TLS); towards the upstream it always speaks plain TCP. Passwords and SASL data never reach
// records or transcripts.
package wiretap
