// Package pgxexecmode is an example driver repository: it certifies pgx in
// QueryExecModeExec (an exec mode the suite does not ship as a built-in
// adapter) by calling the suite as a library. See conformance_test.go —
// that file is all a driver repository needs, plus its reviewed
// expected-failure list (expectations.yaml).
package pgxexecmode
