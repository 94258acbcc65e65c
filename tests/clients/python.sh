#!/usr/bin/env bash
# The Python client (client/python, issue #14): its pytest suite against a
# real futured (the suite starts and stops its own daemons, from
# FUTURED_BUILD), then any sanitizer report in those daemons' logs fails it.
. "$(dirname "$0")/../integration/harness.sh"
py=$PYTHON
"$py" -c 'import pytest' 2>/dev/null || py=/usr/bin/python3
"$py" -c 'import pytest' 2>/dev/null ||
    fail "pytest is missing for $PYTHON and /usr/bin/python3 (apt-get install python3-pytest)"
TMPDIR=$T FUTURED=$FUTURED "$py" -m pytest -q -p no:cacheprovider \
    --basetemp="$T/pytest" "$FUTURED_SRC/client/python/tests" >"$T/pytest.out" 2>&1
rc=$?
tail -n 30 "$T/pytest.out"
[ "$rc" = 0 ] || fail "pytest exited $rc"
grep -q ' passed' "$T/pytest.out" || fail "pytest reports no passed test"
! grep -Eq ' (skipped|xfailed|deselected)' "$T/pytest.out" || fail "pytest skipped tests"
if grep -rlE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/pytest" 2>/dev/null; then
	fail "a sanitizer report in a daemon's log"
fi
find "$FUTURED_SRC/client/python" -name __pycache__ -prune -exec rm -rf {} + 2>/dev/null
exit 0
