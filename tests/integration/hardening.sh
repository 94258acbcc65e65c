#!/usr/bin/env bash
# Small promises of issue #11, each checked against a real daemon:
# - NUL in an object key (an env name, a parameter name, a key inside a
#   sleep's result) is -32602 naming the field, not a parse error; the other
#   calls of the batch are served (defect 5);
# - a refused notification (unknown dependency, KeyConflict, bad params, NUL
#   key) creates nothing, is logged once at warn with its method, error and
#   key or labels, and is counted in daemon.info (defect 6);
# - --listen is checked whole before anything is created, also by -n: a port
#   above 65535, a missing port, a host that does not resolve (defect 7);
# - futured.db, -wal and -shm are 0600 in a state dir that already existed,
#   under umask 022, and a database an older futured left 0644 becomes 0600
#   (defect 8).
. "$(dirname "$0")/harness.sh"

# ---- defect 8: file modes, state dir made beforehand, permissive umask
new_state
umask 022
printf '' >"$STATE/futured.db"
chmod 644 "$STATE/futured.db"
start_daemon
submit '{"kind":"sleep","seconds":0}' >/dev/null	# a write: -wal and -shm exist
for f in futured.db futured.db-wal futured.db-shm token futured.sock; do
	[ -e "$STATE/$f" ] || fail "no $STATE/$f"
	expect_eq "$(stat -c %a "$STATE/$f")" 600 "mode of $f"
done

# ---- defect 5: NUL in keys
r=$(call task.submit '{"kind":"exec","argv":["true"],"env":{"A\u0000B":"x"}}')
expect_jq "$r" '.error.code == -32602 and .error.data.field == "env.A\\u0000B"' "NUL in an env name"
r=$(call task.submit '{"kind":"sleep","seconds":0,"labels":{"a\u0000":"b"}}')
expect_jq "$r" '.error.code == -32602 and .error.data.field == "labels.a\\u0000"' "NUL in a label name"
r=$(call task.submit '{"kind":"exec","argv":["true"],"env":{"X":"a\u0000b"}}')
expect_jq "$r" '.error.code == -32602 and .error.data.field == "env.X"' "NUL in an env value (unchanged)"
r=$(post '[{"jsonrpc":"2.0","id":1,"method":"task.submit","params":{"kind":"sleep","seconds":0,"result":{"k\u0000":1}}},{"jsonrpc":"2.0","id":2,"method":"task.submit","params":{"kind":"sleep","seconds":0,"result":"fine"}}]')
expect_jq "$r" 'length == 2 and .[0].error.code == -32602 and .[0].error.data.field == "result.k\\u0000" and .[1].result.state != null' "a batch with one NUL-key call"
id=$(jq '.[1].result.id' <<<"$r")
expect_jq "$(rpc task.result "{\"id\":$id,\"timeout\":10}")" '. == "fine"' "the good call of that batch ran"

# ---- defect 6: refused notifications are logged and counted
n0=$(rpc daemon.info | jq .refused_notifications)
expect_eq "$n0" 0 "refused notifications at start"
submit '{"kind":"sleep","seconds":0,"key":"k-taken"}' >/dev/null
count() { rpc task.list '{"limit":1000}' | jq '.tasks | length'; }
before=$(count)
notify() { expect_eq "$(http_status "{\"jsonrpc\":\"2.0\",\"method\":\"task.submit\",\"params\":$1}")" 200 "notification $1"; }
notify '{"kind":"sleep","seconds":0,"after":[99999999],"labels":{"job":"nightly"}}'
notify '{"kind":"sleep","seconds":5,"key":"k-taken"}'
notify '{"kind":"sleep","seconds":-1,"key":"k-bad"}'
notify '{"kind":"sleep","seconds":0,"labels":{"x\u0000":"y"}}'
expect_eq "$(http_status '{"jsonrpc":"2.0","method":"no.such.method"}')" 200 "unknown method notification"
expect_eq "$(rpc daemon.info | jq .refused_notifications)" 5 "refused notifications counted"
expect_eq "$(count)" "$before" "tasks created by refused notifications"
log=$STATE/daemon.log
grep -q 'refused notification task.submit: NoSuchTask .*labels {"job":"nightly"}' "$log" || fail "unknown dependency not logged with its labels: $(grep refused "$log")"
grep -q 'refused notification task.submit: KeyConflict .*key "k-taken"' "$log" || fail "KeyConflict not logged with its key"
grep -q 'refused notification task.submit: Invalid params {"field":"seconds".*key "k-bad"' "$log" || fail "bad params not logged"
grep -q 'refused notification task.submit: Invalid params {"field":"labels.x\\\\u0000"' "$log" || fail "NUL-key notification not logged: $(grep refused "$log")"
grep -q 'refused notification no.such.method: Method not found' "$log" || fail "unknown method notification not logged"
expect_eq "$(grep -c 'refused notification' "$log")" 5 "refused notifications logged once each"
stop_daemon

# ---- defect 7: --listen checked whole, before anything is created
for bad in 0.0.0.0:99999 127.0.0.1:65536 nope 127.0.0.1: :80 '127.0.0.1:8x' 127.0.0.1:-1 host.invalid:80; do
	out=$("$FUTURED" --config /dev/null --state-dir "$T/never" --listen "$bad" -n 2>&1)
	rc=$?
	[ "$rc" != 0 ] || fail "futured -n accepted --listen $bad: $out"
	grep -q -- "--listen" <<<"$out" || fail "futured -n --listen $bad said: $out"
	timeout 10 "$FUTURED" --config /dev/null --state-dir "$T/never" --listen "$bad" >/dev/null 2>&1
	rc=$?
	[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "futured started with --listen $bad (exit $rc)"
	[ ! -e "$T/never" ] || fail "futured created its state dir before refusing --listen $bad"
done
out=$("$FUTURED" --config /dev/null --state-dir "$T/never" --listen 127.0.0.1:0 -n 2>&1) ||
    fail "futured -n refused --listen 127.0.0.1:0: $out"
out=$("$FUTURED" --config /dev/null --state-dir "$T/never" --listen '[::1]:65535' -n 2>&1) ||
    fail "futured -n refused --listen [::1]:65535: $out"
note "ok: NUL keys, refused notifications, --listen checks, 0600 database files"
