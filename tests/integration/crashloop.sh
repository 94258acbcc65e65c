#!/usr/bin/env bash
# The crash loop of issue #11 (tests/integration/crashloop.py): futured
# killed with SIGKILL CRASHLOOP_ROUNDS times (10 here; bench/crashloop runs
# 100 or more) under concurrent submitters (batches, keys, retries, exec and
# sleep tasks); after every restart: no acknowledged task lost, none
# duplicated, no finished result changed, PRAGMA integrity_check ok, no
# process of an earlier attempt alive, no two attempts of a task at once.
. "$(dirname "$0")/harness.sh"
new_state
"$PYTHON" "$H_DIR/crashloop.py" "$FUTURED" "$STATE" "${CRASHLOOP_ROUNDS:-10}" \
    --json "$T/crashloop.json" || fail "the crash loop found problems (above)"
note "$(jq -c . "$T/crashloop.json")"
