#!/usr/bin/env bash
# Entrypoint of the pgwire-conformance postgres17-pgvector image: the official
# postgres image's interface, but the real server is started only once.
#   1. as root: fix ownership of PGDATA and the socket dir, re-exec as postgres;
#   2. if PGDATA is empty: initdb, pg_hba, then a temporary server on the unix
#      socket only (no TCP) to create POSTGRES_DB, `CREATE EXTENSION vector` and
#      run /docker-entrypoint-initdb.d/*; stop it;
#   3. exec postgres in the foreground (PID 1), which alone listens on TCP 5432.
set -Eeo pipefail

log() { printf '%s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# file_env VAR [DEFAULT]: VAR or the contents of the file named by VAR_FILE.
file_env() {
	local var="$1" def="${2:-}" fvar="${1}_FILE" val
	if [ -n "${!var:-}" ] && [ -n "${!fvar:-}" ]; then
		die "both $var and $fvar are set (but are exclusive)"
	fi
	val="$def"
	if [ -n "${!var:-}" ]; then
		val="${!var}"
	elif [ -n "${!fvar:-}" ]; then
		val="$(<"${!fvar}")"
	fi
	export "$var"="$val"
	unset "$fvar"
}

# `docker run IMAGE -c foo=bar` means `postgres -c foo=bar`.
if [ "${1:0:1}" = '-' ]; then
	set -- postgres "$@"
fi

# Anything other than the server: just run it.
if [ "${1:-}" != 'postgres' ]; then
	exec "$@"
fi

if [ "$(id -u)" = '0' ]; then
	mkdir -p "$PGDATA" /var/run/postgresql
	chown postgres:postgres "$PGDATA" /var/run/postgresql
	chmod 0700 "$PGDATA"
	chmod 3777 /var/run/postgresql
	# A fresh data dir may have been mounted with other owners inside.
	if [ ! -s "$PGDATA/PG_VERSION" ]; then
		find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
	fi
	exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

file_env POSTGRES_PASSWORD
file_env POSTGRES_USER postgres
file_env POSTGRES_DB "$POSTGRES_USER"
file_env POSTGRES_INITDB_ARGS
: "${POSTGRES_HOST_AUTH_METHOD:=}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != 'trust' ]; then
		cat >&2 <<-'MSG'
			Error: Database is uninitialized and superuser password is not specified.
			       You must specify POSTGRES_PASSWORD to a non-empty value for the
			       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

			       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
			       connections without a password. This is *not* recommended.
		MSG
		exit 1
	fi
	auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"

	log "initdb: PGDATA=$PGDATA user=$POSTGRES_USER db=$POSTGRES_DB host auth=$auth"
	# --no-sync: a throw-away test server (it runs with fsync=off anyway).
	# shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is word-split on purpose
	if [ -n "$POSTGRES_PASSWORD" ]; then
		initdb --no-sync --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") $POSTGRES_INITDB_ARGS
	else
		initdb --no-sync --username="$POSTGRES_USER" $POSTGRES_INITDB_ARGS
	fi

	# Keep initdb's local/loopback lines; every other host connection uses $auth.
	printf '\nhost all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"
	# The command line sets this too; this keeps TCP on when CMD is overridden.
	printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"

	# Temporary server: the same settings as the real one, but no TCP at all.
	tmp_args=("${@:2}" -c "listen_addresses=" -p "${PGPORT:-5432}")
	PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -w -t 60 -o "$(printf '%q ' "${tmp_args[@]}")" start

	export PGUSER="$POSTGRES_USER" PGPASSWORD="$POSTGRES_PASSWORD"
	psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password --username "$POSTGRES_USER")

	if [ "$POSTGRES_DB" != 'postgres' ]; then
		"${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<-'SQL'
			SELECT format('CREATE DATABASE %I', :'db')
			WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
		SQL
	fi
	"${psql[@]}" --dbname "$POSTGRES_DB" -c 'CREATE EXTENSION IF NOT EXISTS vector'
	psql+=(--dbname "$POSTGRES_DB")

	for f in /docker-entrypoint-initdb.d/*; do
		[ -e "$f" ] || continue
		case "$f" in
			*.sh)
				if [ -x "$f" ]; then
					log "$0: running $f"
					"$f"
				else
					log "$0: sourcing $f"
					# shellcheck disable=SC1090
					. "$f"
				fi
				;;
			*.sql)    log "$0: running $f"; "${psql[@]}" -f "$f" ;;
			*.sql.gz) log "$0: running $f"; gunzip -c "$f" | "${psql[@]}" ;;
			*)        log "$0: ignoring $f" ;;
		esac
	done

	pg_ctl -D "$PGDATA" -m fast -w stop
	unset PGPASSWORD
	log 'PostgreSQL init process complete; starting the server.'
else
	log 'PostgreSQL database directory appears to contain a database; skipping initialization.'
fi

exec "$@"
