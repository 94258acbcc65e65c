# tests/pg/pg.sh: a throwaway PostgreSQL 15 for the tests (issue #13).
# Sourced.  pg_start makes a cluster in a new temporary folder with initdb,
# as an unprivileged user (nobody when run as root: PostgreSQL refuses
# root), listening on a Unix socket in that folder only (no TCP), and sets
#   PG_DIR   the folder (socket, data, log)
#   PG_URI   a libpq URI template, {db} standing for a database name
# pg_db NAME creates a database and prints its URI; pg_stop stops the
# server and removes the folder.  The caller traps pg_stop on exit.
# PG_DIR_BASE: where the folder goes (default /tmp).
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
PG_DIR=""
PG_URI=""
pg_as() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u nobody -- "$@"
	else
		"$@"
	fi
}
pg_start() {
	[ -x "$PG_BIN/initdb" ] || { echo "pg.sh: no initdb under $PG_BIN (apt-get install postgresql-15)" >&2; return 1; }
	PG_DIR=$(mktemp -d "${PG_DIR_BASE:-/tmp}/futured-pg.XXXXXX") || return 1
	chmod 0755 "$PG_DIR"
	[ "$(id -u)" = 0 ] && chown nobody "$PG_DIR"
	pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U futured --auth=trust -E UTF8 \
		--locale=C -N >"$PG_DIR/initdb.log" 2>&1 ||
		{ cat "$PG_DIR/initdb.log" >&2; return 1; }
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 60 \
		-o "-c listen_addresses='' -c unix_socket_directories='$PG_DIR'" \
		start >/dev/null || { cat "$PG_DIR/log" >&2; return 1; }
	PG_URI="postgresql:///{db}?host=$PG_DIR&user=futured"
}
pg_db() {
	psql -qX "${PG_URI//\{db\}/postgres}" -c "CREATE DATABASE $1" >/dev/null || return 1
	echo "${PG_URI//\{db\}/$1}"
}
pg_stop() {
	[ -n "$PG_DIR" ] || return 0
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
		pkill -9 -f "postgres -D $PG_DIR/data" 2>/dev/null
	rm -rf "$PG_DIR"
	PG_DIR=""
}
