#!/usr/bin/env bash
# examples/ (issue #14): the seed's asyncio programs written with the Python
# client, each run against a real futured and a local HTTP server by
# examples/run-examples.sh, which checks what each must show.
. "$(dirname "$0")/../integration/harness.sh"
# run from inside a task of another futured, the examples' tasks would be
# that task's children (FUTURED_TASK_ID): not in the daemon started here
unset FUTURED_TASK_ID
TMPDIR=$T PYTHON=$PYTHON FUTURED_BUILD=$FUTURED_BUILD \
    bash "$FUTURED_SRC/examples/run-examples.sh" >"$T/examples.out" 2>&1
rc=$?
cat "$T/examples.out"
[ "$rc" = 0 ] || fail "run-examples.sh exited $rc"
grep -Eq 'run-examples: [1-9][0-9]* passed, 0 failed' "$T/examples.out" ||
    fail "run-examples.sh did not report every example passed"
find "$FUTURED_SRC/client/python" -name __pycache__ -prune -exec rm -rf {} + 2>/dev/null
exit 0
