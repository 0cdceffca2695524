// Package integration holds the seed's web-framework specs (FR-014; tasks
// T008, T009, T019, T020): the FastAPI application of the seed rebuilt in
// net/http (App, in app.go) on the engine of the adapter under test, with a
// connection per request as its session dependency. Specs call it over real
// HTTP on 127.0.0.1 and check each endpoint's exact answer, the vector
// search against a ground truth computed in Go, and 50 concurrent requests
// on a pool of 5, with the observer counting the server connections.
//
// backend_app.go holds the same checks for a backend's own web app
// (capability webapp: FastAPI on uvicorn for the Python backend, started by
// webapp.start on an engine of the adapter, its /search running the Go
// side's SQL on a table the observer seeded). orm.go certifies FR-011 for
// adapters with an ORM (capability orm): the backend's model mapped onto a
// table the suite created, each add, get, update and delete checked
// through the observer (orm.run, PROTOCOL.md).
package integration
