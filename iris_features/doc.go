// Package iris_features holds the specs for FR-004 — the server features an
// application on IRIS relies on, kept when it talks through a PGWire driver
// (seed tasks T025–T028, T009): vector columns written and read with
// parameters, cosine similarity and nearest-neighbour ordering against a
// ground truth computed in Go, INFORMATION_SCHEMA, and server functions.
// Every spec acts through the adapter under test, writes its SQL through the
// run's profile (pgvector on PostgreSQL, VECTOR/TO_VECTOR/VECTOR_COSINE on
// IRIS) and checks the server's view through the harness's observer.
package iris_features
