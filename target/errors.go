package target

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/testcontainers/testcontainers-go"
)

type containersClient = *testcontainers.DockerClient

// isAuthError reports a login the server refused: retrying cannot help.
func isAuthError(err error) bool {
	_, ok := authFailed(err)
	return ok
}

func pgError(err error) (*pgconn.PgError, bool) {
	var pe *pgconn.PgError
	return pe, errors.As(err, &pe)
}
