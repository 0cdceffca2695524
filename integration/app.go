package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/pgwire-conformance/pgwire-conformance/adapter"
	"github.com/pgwire-conformance/pgwire-conformance/fixtures"
	"github.com/pgwire-conformance/pgwire-conformance/profile"
)

// MaxK bounds the k a search may ask for.
const MaxK = 100

// App is the seed's FastAPI application (T008, T009, T019) in net/http: each
// request takes one connection from the engine for its whole life and gives
// it back at the end (FastAPI's session dependency), and runs its queries
// through it.
//
//	GET  /health  {"status":"ok","db":true}   (db: SELECT 1 returned 1)
//	GET  /test    {"value":1}                 (SELECT 1 AS value)
//	GET  /sleep   {"slept":true}              (a 0.2 s server-side sleep)
//	POST /search  {"vector":[...],"k":5}  →  [{"id":..,"score":..}, ...]
//
// /search ranks the rows of a fixtures.VectorTableDDL table by cosine
// similarity to the vector, most similar first, ties by id.
type App struct {
	engine  adapter.Engine
	profile profile.Profile
	table   string
	mux     *http.ServeMux
}

// NewApp returns the application over engine, searching table with the
// profile's SQL.
func NewApp(engine adapter.Engine, p profile.Profile, table string) http.Handler {
	a := &App{engine: engine, profile: p, table: table, mux: http.NewServeMux()}
	a.mux.HandleFunc("GET /health", a.withSession(a.health))
	a.mux.HandleFunc("GET /test", a.withSession(a.test))
	a.mux.HandleFunc("POST /search", a.withSession(a.search))
	a.mux.HandleFunc("GET /sleep", a.withSession(a.sleep))
	return a
}

func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// handler is an endpoint given the request's session; it returns the status
// and the value to send as JSON.
type handler func(r *http.Request, db adapter.Conn) (int, any)

// withSession is the session dependency: acquire a connection before the
// endpoint runs, release it after, whatever happened.
func (a *App) withSession(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		db, err := a.engine.Acquire(r.Context())
		if err != nil {
			writeJSON(w, http.StatusServiceUnavailable, errorBody{"acquire a connection: " + err.Error()})
			return
		}
		status, body := h(r, db)
		if err := db.Release(r.Context()); err != nil && status < 300 {
			status, body = http.StatusInternalServerError, errorBody{"release the connection: " + err.Error()}
		}
		writeJSON(w, status, body)
	}
}

type errorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encode the response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func (a *App) health(r *http.Request, db adapter.Conn) (int, any) {
	v, err := adapter.Scalar(r.Context(), db, "SELECT 1")
	if err != nil {
		return http.StatusServiceUnavailable, map[string]any{"status": "error", "db": false, "error": err.Error()}
	}
	return http.StatusOK, map[string]any{"status": "ok", "db": v == int64(1)}
}

// SleepSeconds is how long GET /sleep sleeps on the server: the slow
// endpoint that shows whether the app serves requests concurrently.
const SleepSeconds = 0.2

func (a *App) sleep(r *http.Request, db adapter.Conn) (int, any) {
	if _, err := adapter.QueryAll(r.Context(), db, a.profile.Sleep(SleepSeconds)); err != nil {
		return http.StatusInternalServerError, errorBody{err.Error()}
	}
	return http.StatusOK, map[string]any{"slept": true}
}

func (a *App) test(r *http.Request, db adapter.Conn) (int, any) {
	v, err := adapter.Scalar(r.Context(), db, "SELECT 1 AS value")
	if err != nil {
		return http.StatusInternalServerError, errorBody{err.Error()}
	}
	return http.StatusOK, map[string]any{"value": v}
}

// SearchRequest is the body of POST /search.
type SearchRequest struct {
	Vector []float32 `json:"vector"`
	K      int       `json:"k"`
}

func (a *App) search(r *http.Request, db adapter.Conn) (int, any) {
	var req SearchRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return http.StatusBadRequest, errorBody{"body: " + err.Error()}
	}
	if len(req.Vector) == 0 {
		return http.StatusBadRequest, errorBody{"vector: empty"}
	}
	if req.K < 1 || req.K > MaxK {
		return http.StatusBadRequest, errorBody{fmt.Sprintf("k: %d is not in 1..%d", req.K, MaxK)}
	}
	hits, err := a.query(r, db, req)
	if err != nil {
		return http.StatusInternalServerError, errorBody{err.Error()}
	}
	return http.StatusOK, hits
}

func (a *App) query(r *http.Request, db adapter.Conn, req SearchRequest) ([]fixtures.Hit, error) {
	all, err := adapter.QueryAll(r.Context(), db, fixtures.SearchSQL(a.profile, a.table, req.K), profile.VectorLiteral(req.Vector))
	if err != nil {
		return nil, err
	}
	hits := make([]fixtures.Hit, 0, len(all))
	for i, row := range all {
		if len(row) != 2 {
			return nil, fmt.Errorf("row %d has %d columns, want 2", i, len(row))
		}
		id, ok := row[0].(int64)
		if !ok {
			return nil, fmt.Errorf("row %d: id %v is %T, want int64", i, row[0], row[0])
		}
		score, err := fixtures.Float(row[1])
		if err != nil {
			return nil, fmt.Errorf("row %d: score: %w", i, err)
		}
		hits = append(hits, fixtures.Hit{ID: id, Score: score})
	}
	return hits, nil
}
