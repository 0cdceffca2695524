package target

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/testcontainers/testcontainers-go"
)

type containersClient = *testcontainers.DockerClient

// isAuthError reports a login the server refused: retrying cannot help.
func isAuthError(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "28P01" || pe.Code == "28000")
}
