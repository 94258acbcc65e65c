#!/usr/bin/env bash
# tests/browser/cdp.js, the DevTools driver of the dashboard's test, on
# pages of its own (selftest.js): every call it offers, chromium's death,
# and no process or profile left behind.
. "$(dirname "$0")/../integration/harness.sh"
command -v chromium >/dev/null || fail "chromium is not installed (scripts/deps.sh installs it)"
FUTURED_TEST_SCALE=$(scaled 3) timeout "$(scaled 300)" node "$FUTURED_SRC/tests/browser/selftest.js" ||
    fail "selftest.js (above)"
exit 0
