#!/usr/bin/env bash
# The Node client (client/node, issue #14): node --test against a real
# futured (the tests start and stop their own daemons, from FUTURED_BUILD).
. "$(dirname "$0")/../integration/harness.sh"
command -v node >/dev/null || fail "node is missing (apt-get install nodejs)"
TMPDIR=$T FUTURED=$FUTURED node --test "$FUTURED_SRC/client/node/test/" >"$T/node.out" 2>&1
rc=$?
tail -n 30 "$T/node.out"
[ "$rc" = 0 ] || fail "node --test exited $rc"
grep -Eq '^# pass [1-9]' "$T/node.out" || fail "node --test reports no passed test"
grep -Eq '^# (skipped|todo) [1-9]' "$T/node.out" && fail "node --test skipped tests"
if grep -rlE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T" --include='*.log' 2>/dev/null | grep -v "$T/node.out"; then
	fail "a sanitizer report in a daemon's log"
fi
exit 0
