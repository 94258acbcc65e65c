#!/usr/bin/env bash
# with-pg.sh NAME.pg: runs tests/pg/NAME.sh, else tests/integration/NAME.sh, with a
# PostgreSQL of its own (tests/pg/pg.sh), started before and stopped after,
# FUTURED_PG naming it: every futured the test starts stores in its own
# database there (harness.sh's start_daemon).  make check's log compiler
# for .pg tests (issue #13).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/pg.sh"
trap pg_stop EXIT
trap 'exit 143' TERM INT
pg_start || { echo "FAIL: cannot start PostgreSQL"; exit 99; }
export FUTURED_PG=$PG_URI
name=$(basename "$1" .pg)
if [ -f "$here/$name.sh" ]; then
	bash "$here/$name.sh"
else
	bash "$here/../integration/$name.sh"
fi
