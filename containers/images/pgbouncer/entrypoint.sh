#!/bin/sh
# Writes PgBouncer's configuration from the environment and runs it in the
# foreground (PID 1).
#   PGBOUNCER_SERVER_HOST / _PORT  the PostgreSQL server (default postgres:5432)
#   PGBOUNCER_USERLIST             auth_file lines: "user" "password" (plain:
#                                  PgBouncer then logs in to the server with it)
#   PGBOUNCER_HBA                  auth_hba_file lines (auth_type hba): the
#                                  method each user must authenticate with
#   PGBOUNCER_ADMIN_USERS          users allowed on the admin console (SHOW VERSION)
#   PGBOUNCER_POOL_SIZE, PGBOUNCER_MAX_PREPARED_STATEMENTS, PGBOUNCER_MAX_CLIENT_CONN
set -eu
dir=/run/pgwc-bouncer
umask 077
: "${PGBOUNCER_USERLIST:?PGBOUNCER_USERLIST is required}"
: "${PGBOUNCER_HBA:?PGBOUNCER_HBA is required}"
printf '%s\n' "$PGBOUNCER_USERLIST" >"$dir/userlist.txt"
printf '%s\n' "$PGBOUNCER_HBA" >"$dir/hba.conf"
unset PGBOUNCER_USERLIST PGBOUNCER_HBA
cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=${PGBOUNCER_SERVER_HOST:-postgres} port=${PGBOUNCER_SERVER_PORT:-5432}

[pgbouncer]
listen_addr = 0.0.0.0
listen_port = 6432
unix_socket_dir =
auth_type = hba
auth_hba_file = $dir/hba.conf
auth_file = $dir/userlist.txt
admin_users = ${PGBOUNCER_ADMIN_USERS:-}
pool_mode = transaction
max_prepared_statements = ${PGBOUNCER_MAX_PREPARED_STATEMENTS:-200}
default_pool_size = ${PGBOUNCER_POOL_SIZE:-40}
; Server connections opened ahead of demand: PgBouncer logs in to the
; server (SCRAM) only when a client waits, which would make a burst of
; concurrent queries wait for logins, not for the server.
min_pool_size = ${PGBOUNCER_MIN_POOL_SIZE:-16}
max_client_conn = ${PGBOUNCER_MAX_CLIENT_CONN:-1000}
; Session state does not survive a transaction in this mode. Without a
; reset, what one client SETs (statement_timeout...), LISTENs or locks
; stays on the server connection for whichever client gets it next, so
; failures would land on other clients at random; resetting after every
; transaction makes the loss deterministic (PgBouncer's documented reason
; for this option). Prepared statements are kept: PgBouncer tracks them.
server_reset_query_always = 1
server_reset_query = RESET ALL; CLOSE ALL; UNLISTEN *; SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES
; lib/pq and JDBC send extra_float_digits at startup; PgBouncer cannot
; track it per client, so it is ignored, as most deployments do.
ignore_startup_parameters = extra_float_digits
logfile =
pidfile =
log_connections = 0
log_disconnections = 0
INI
exec pgbouncer "$dir/pgbouncer.ini"
