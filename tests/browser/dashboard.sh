#!/usr/bin/env bash
# The dashboard in a real browser (issue #15): a futured on TCP, the login
# link of futurectl ui, then tests/browser/dashboard.js drives Debian's
# chromium (headless) through it.  FUTURED_SCREENSHOT=FILE keeps a picture
# of the overview (the README's).
. "$(dirname "$0")/../integration/harness.sh"
command -v chromium >/dev/null || fail "chromium is not installed (scripts/deps.sh installs it)"
command -v node >/dev/null || fail "node is not installed (scripts/deps.sh installs nodejs)"
start_daemon --listen 127.0.0.1:0
mkdir -p "$T/gates"
link=$(ctl ui) || fail "futurectl ui"
SOCK=$SOCK LINK=$link TOKEN=$(tr -d '\n' <"$STATE/token") GATES=$T/gates SCREENSHOT=${FUTURED_SCREENSHOT:-$T/overview.png} \
    FUTURED_TEST_SCALE=$(scaled 3) \
    timeout "$(scaled 300)" node "$FUTURED_SRC/tests/browser/dashboard.js" ||
    fail "the dashboard in chromium (above)"
[ -s "${FUTURED_SCREENSHOT:-$T/overview.png}" ] || fail "no screenshot"
exit 0
