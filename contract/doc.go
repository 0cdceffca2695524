// Package contract holds the seed's contract tests (T003–T007, T015, T018)
// as specs run once per adapter: engine creation and dispose, SELECT 1 and
// parameters, introspection, bulk insert and latency.
package contract
