#!/usr/bin/env bash
# The store's conformance suite (tests/unit/test_store.c) on PostgreSQL, in
# a database of its own on FUTURED_PG (tests/pg/with-pg.sh), then the
# PostgreSQL backend's own cases (test_store_pg).
set -eu
: "${FUTURED_PG:?run me through tests/pg/with-pg.sh}"
psql -qX "${FUTURED_PG//\{db\}/postgres}" -c "CREATE DATABASE store_unit" >/dev/null
export FUTURED_TEST_PG=${FUTURED_PG//\{db\}/store_unit}
"$FUTURED_BUILD/tests/unit/test_store"
"$FUTURED_BUILD/tests/unit/test_store_pg"
