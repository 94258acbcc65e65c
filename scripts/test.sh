#!/usr/bin/env bash
# Installs the dependencies, builds, and runs every test (make check).
#   scripts/test.sh              build in build/
#   scripts/test.sh --sanitize   build in build-asan/ with ASan+UBSan
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=build
flags=()
if [ "${1:-}" = --sanitize ]; then
	dir=build-asan
	flags=(--enable-sanitizers)
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi
"$top/scripts/deps.sh"
cd "$top"
[ -x configure ] || autoreconf -fi
mkdir -p "$dir"
cd "$dir"
[ -f Makefile ] || ../configure -q "${flags[@]}"
make -j"$(nproc)"
if ! make -j"$(nproc)" check; then
	for log in $(find tests -name '*.log' ! -name test-suite.log); do
		trs=${log%.log}.trs
		grep -q '^:test-result: \(FAIL\|ERROR\)' "$trs" 2>/dev/null || continue
		echo "=== $log"; tail -n 60 "$log"
	done
	exit 1
fi
