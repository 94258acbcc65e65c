#!/usr/bin/env bash
# Installs the dependencies, builds futured, and runs it in the foreground
# on a local state dir (./state): embedded sqlite, nothing to configure.
# It also listens on 127.0.0.1:7070 (FUTURED_LISTEN; empty: no TCP) for
# the dashboard; TCP always needs the token or a login.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
cd "$top"
[ -x configure ] || autoreconf -fi
mkdir -p build && cd build
[ -f Makefile ] || ../configure -q
make -j"$(nproc)"
state=$top/state
cat <<TXT

futured is starting on $state (Ctrl-C stops it).  In another terminal:

  export FUTURED_SOCKET=$state/futured.sock
  alias futurectl=$top/build/client/futurectl
  futurectl run -- sh -c 'echo hello from a task'
  futurectl submit --sleep 5 --result '"done"'
  futurectl list
  futurectl wait 2 && futurectl result 2
  futurectl ui        # a one-time link to the web dashboard

TXT
listen=${FUTURED_LISTEN-127.0.0.1:7070}
exec ./daemon/futured --state-dir "$state" ${listen:+--listen "$listen"} "$@"
