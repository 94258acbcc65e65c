# tests/pg/nodes.sh: several futured on one PostgreSQL database, for the
# cluster tests (sourced after harness.sh).  nodes_db NAME creates the
# database and sets URI; node N [ARGS...] starts (or restarts) node N on
# its own state dir with NODE_ARGS and ARGS; on N CMD... runs CMD against
# node N's socket; kill9_node N and stop_node N end it.
: "${FUTURED_PG:?run me through tests/pg/with-pg.sh}"

declare -A NPID NSTATE
NODE_ARGS=()

nodes_db() {
	psql -qX "${FUTURED_PG//\{db\}/postgres}" -Atc "CREATE DATABASE $1" \
	    >/dev/null || fail "cannot create the database"
	URI=${FUTURED_PG//\{db\}/$1}
}
node() {
	local n=$1
	shift
	NSTATE[$n]=${NSTATE[$n]:-$(mktemp -d "$T/node$n.XXXX")}
	STATE=${NSTATE[$n]} DPID=""
	start_daemon --store "$URI" --node "n$n" "${NODE_ARGS[@]}" "$@"
	NPID[$n]=$DPID
	DPID=""
}
on() { local n=$1; shift; SOCK=${NSTATE[$n]}/futured.sock "$@"; }
kill9_node() { kill -9 "${NPID[$1]}" 2>/dev/null; wait "${NPID[$1]}" 2>/dev/null; NPID[$1]=""; }
stop_node() {
	local p=${NPID[$1]}
	NPID[$1]=""
	kill -TERM "$p" 2>/dev/null
	poll_until 30 eval '! alive '"$p" || fail "node $1 still runs 30 s after SIGTERM"
	wait "$p" 2>/dev/null
}
