// Package profile holds what differs between the servers the suite targets
// — PostgreSQL 17 + pgvector (the reference) and IRIS behind iris-pgwire —
// and nothing else. Specs ask the profile for SQL instead of writing either
// dialect, so the same spec certifies a driver on both.
package profile

import (
	"fmt"
	"strings"
)

// Feature is something a profile may lack; specs needing it are reported
// not applicable on that profile.
type Feature string

const (
	// TransactionalDDL: CREATE/DROP inside a transaction roll back.
	TransactionalDDL Feature = "transactional-ddl"
	// ConnectionView: the observer can count and terminate server sessions
	// by application_name.
	ConnectionView Feature = "connection-view"
	// VectorOperators: pgvector's <=> operator is a cosine *distance*.
	VectorOperators Feature = "vector-operators"
	// CopyFromStdin: COPY … FROM STDIN works and leaves the server serving.
	CopyFromStdin Feature = "copy-from-stdin"
	// ConcurrentSessions: one session's open transaction or running
	// statement holds no other session's statements, so a spec can watch
	// one session from another while it works.
	ConcurrentSessions Feature = "concurrent-sessions"
)

// Profile is one server dialect.
type Profile struct {
	Name string
	// Schema is where the suite's tables appear in INFORMATION_SCHEMA.
	Schema string
	// Setup runs once through the observer before any spec.
	Setup    []string
	features map[Feature]bool
	// vectorType is the column type with %d for the dimension.
	vectorType string
	// vectorParam casts parameter $%d to a vector.
	vectorParam string
	// cosine gives cosine *similarity* of two vector expressions.
	cosine string
	// sleep is a statement that sleeps %s seconds server-side.
	sleep string
	// serverFunctions: name → SQL returning one value, all non-NULL.
	serverFunctions map[string]string
	// connections counts sessions by application_name ($1).
	connections string
	// terminate ends sessions by application_name ($1).
	terminate string
	// active counts sessions by application_name ($1) running a statement.
	active string
	// types renders DDL type tokens (see DDL).
	types map[string]string
	// session reads user, database, port and application name.
	session Session
}

// Has reports whether the profile supports f.
func (p Profile) Has(f Feature) bool { return p.features[f] }

// VectorType is the column type of an n-dimensional float vector.
func (p Profile) VectorType(n int) string { return fmt.Sprintf(p.vectorType, n) }

// VectorParam is the SQL that turns parameter $i (text like "[1,2,3]") into a vector.
func (p Profile) VectorParam(i int) string { return fmt.Sprintf(p.vectorParam, i) }

// CosineSimilarity is the SQL for the cosine similarity of a and b (1 = same direction).
func (p Profile) CosineSimilarity(a, b string) string {
	return strings.NewReplacer("{a}", a, "{b}", b).Replace(p.cosine)
}

// Sleep is a statement that sleeps seconds on the server.
func (p Profile) Sleep(seconds float64) string {
	return fmt.Sprintf(p.sleep, fmt.Sprintf("%g", seconds))
}

// ServerFunctions returns name → SQL for the profile's server functions.
func (p Profile) ServerFunctions() map[string]string {
	out := make(map[string]string, len(p.serverFunctions))
	for k, v := range p.serverFunctions {
		out[k] = v
	}
	return out
}

// ConnectionsSQL counts server sessions whose application_name is $1
// ("" without ConnectionView).
func (p Profile) ConnectionsSQL() string { return p.connections }

// TerminateSQL ends server sessions whose application_name is $1
// ("" without ConnectionView).
func (p Profile) TerminateSQL() string { return p.terminate }

// VectorLiteral formats v as the text form both servers accept: [1,2,3].
func VectorLiteral(v []float32) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%g", x)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// Postgres is PostgreSQL 17 with pgvector 0.8.
var Postgres = Profile{
	Name:   "postgres",
	Schema: "public",
	Setup:  []string{"CREATE EXTENSION IF NOT EXISTS vector"},
	features: map[Feature]bool{
		TransactionalDDL: true, ConnectionView: true, VectorOperators: true, CopyFromStdin: true, ConcurrentSessions: true,
	},
	vectorType:  "vector(%d)",
	vectorParam: "$%d::vector",
	cosine:      "(1 - ({a} <=> {b}))",
	sleep:       "SELECT pg_sleep(%s)",
	serverFunctions: map[string]string{
		"CURRENT_TIMESTAMP":  "SELECT CURRENT_TIMESTAMP",
		"version()":          "SELECT version()",
		"current_database()": "SELECT current_database()",
	},
	connections: "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
	terminate:   "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
	active:      "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'",
	types:       postgresTypes,
	session: Session{
		User: "SELECT current_user", Database: "SELECT current_database()",
		Port: "SELECT inet_server_port()", ApplicationName: "SELECT current_setting('application_name')",
	},
}

// IRIS is InterSystems IRIS reached through iris-pgwire (see
// shared/docs/iris-pgwire.md): VECTOR(FLOAT, n), TO_VECTOR, VECTOR_COSINE
// (a similarity), schema SQLUser, $HOROLOG. iris-pgwire rewrites pgvector's
// <=> into a similarity, so ORDER BY v <=> $1 inverts there: the profile
// does not claim VectorOperators. IRIS has no sleep function; Setup defines
// one in ObjectScript. Sessions are IRIS processes behind the PGWire
// server, invisible by application_name, so no ConnectionView.
var IRIS = Profile{
	Name:   "iris",
	Schema: "SQLUser",
	Setup: []string{
		"CREATE OR REPLACE FUNCTION pgwc_sleep(secs DOUBLE) RETURNS INTEGER LANGUAGE OBJECTSCRIPT { HANG secs  QUIT 1 }",
	},
	// Each iris-pgwire connection is its own IRIS process.
	features:    map[Feature]bool{ConcurrentSessions: true},
	vectorType:  "VECTOR(FLOAT, %d)",
	vectorParam: "TO_VECTOR($%d, FLOAT)",
	cosine:      "VECTOR_COSINE({a}, {b})",
	sleep:       "SELECT pgwc_sleep(%s)",
	serverFunctions: map[string]string{
		"CURRENT_TIMESTAMP": "SELECT CURRENT_TIMESTAMP",
		"$HOROLOG":          "SELECT $HOROLOG",
		"$ZVERSION":         "SELECT $ZVERSION",
	},
	types: irisTypes,
	// IRIS names the user; the namespace stands for the database. Port and
	// application name have no IRIS SQL (unverified on a live IRIS).
	session: Session{User: "SELECT CURRENT_USER", Database: "SELECT $NAMESPACE"},
}

// ByName returns the profile called name.
func ByName(name string) (Profile, error) {
	switch name {
	case Postgres.Name:
		return Postgres, nil
	case IRIS.Name:
		return IRIS, nil
	}
	return Profile{}, fmt.Errorf("unknown profile %q (want postgres or iris)", name)
}
