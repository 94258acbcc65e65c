#!/usr/bin/env bash
# tests/fuzz/run.sh: builds the libFuzzer targets (issue #11) with clang,
# ASan and UBSan, runs every regression input of tests/fuzz/regress/<target>/
# once, then fuzzes each target for FUZZ_SECONDS (default 60) from a copy
# of its seed corpus.  Exits non-zero when any target crashes, leaks, hangs
# or breaks one of its checks.
#
#   tests/fuzz/run.sh [target...]      default: every target
#
# Environment:
#   FUZZ_SECONDS   seconds of fuzzing per target (default 60); 0: build and
#                  run the regression inputs only
#   FUZZ_BUILD     build directory (default: build-fuzz in the source tree)
#   FUZZ_CC        the compiler (default clang; not $CC, which may be gcc:
#                  it must know -fsanitize=fuzzer, on Debian 12 clang and
#                  libclang-rt-14-dev, see scripts/deps.sh)
#
# A crash leaves its input in $FUZZ_BUILD/artifacts/<target>/: commit it to
# tests/fuzz/regress/<target>/ so that every later run replays it (also
# there: inputs longer than the fuzzer's -max_len that must keep passing).
# The corpus each run grows is kept in $FUZZ_BUILD/corpus/<target>/ for the
# next run on this machine.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fuzz=$src/tests/fuzz
build=${FUZZ_BUILD:-$src/build-fuzz}
seconds=${FUZZ_SECONDS:-60}
cc=${FUZZ_CC:-clang}
all_targets=(fuzz_envelope fuzz_params fuzz_http fuzz_yield)

# The longest input each target is given: a header value past its limit
# of 8192 bytes, a line nested deeper than jansson parses.  Longer inputs
# slow every run; what only they reach (a batch over 10,000 calls) is a
# file of tests/fuzz/regress/, replayed each time.
declare -A max_len=(
	[fuzz_envelope]=8192 [fuzz_params]=8192 [fuzz_http]=16384
	[fuzz_yield]=8192
)

die() {
	echo "fuzz: $*" >&2
	exit 2
}

case $seconds in
'' | *[!0-9]*) die "FUZZ_SECONDS must be a whole number of seconds" ;;
esac
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
	case " ${all_targets[*]} " in
	*" $t "*) ;;
	*) die "no such target: $t (${all_targets[*]})" ;;
	esac
done
command -v "$cc" >/dev/null || die "$cc not found: run scripts/deps.sh"
command -v pkg-config >/dev/null ||
	die "pkg-config not found: run scripts/deps.sh"
mkdir -p "$build"
build=$(cd "$build" && pwd)

# base.h includes the autotools config.h: the little it needs, from
# configure.ac, so that no configured tree is required.
version=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' \
	"$src/configure.ac")
cat >"$build/config.h.new" <<EOF
/* config.h for the fuzzers (tests/fuzz/run.sh) */
#define PACKAGE "futured"
#define PACKAGE_NAME "futured"
#define PACKAGE_VERSION "${version:-0}"
#define VERSION PACKAGE_VERSION
EOF
if cmp -s "$build/config.h.new" "$build/config.h"; then
	rm -f "$build/config.h.new"
else
	mv "$build/config.h.new" "$build/config.h"
fi

cflags=(-g -O1 -fsanitize=fuzzer,address,undefined
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer
	-std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter
	-I"$build" -I"$src/proto" -I"$src/daemon" -I"$fuzz")
read -r -a jansson_cflags <<<"$(pkg-config --cflags jansson)"
read -r -a jansson_libs <<<"$(pkg-config --libs jansson)"
proto=("$src"/proto/fp-*.c)

sources() {
	case $1 in
	fuzz_http)
		echo "$fuzz/fuzz_http.c $src/daemon/http/http-parse.c $src/daemon/base/xmalloc.c"
		;;
	*)
		echo "$fuzz/$1.c $fuzz/fuzz-methods.c ${proto[*]}"
		;;
	esac
}

for t in "${targets[@]}"; do
	echo "== fuzz: building $t"
	read -r -a srcs <<<"$(sources "$t")"
	"$cc" "${cflags[@]}" "${jansson_cflags[@]}" "${srcs[@]}" \
		-o "$build/$t" "${jansson_libs[@]}" -lhttp_parser -lm
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
mkdir -p "$build/logs"

# Every regression input, once each, each on its own so that one crash
# does not hide the next.
for t in "${targets[@]}"; do
	regress=$fuzz/regress/$t
	[ -d "$regress" ] || continue
	mkdir -p "$build/artifacts/$t"
	n=0 bad=0
	for f in "$regress"/*; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		log=$build/logs/$t.regress.$(basename "$f").log
		if ! "$build/$t" -timeout=10 -rss_limit_mb=2048 \
			-artifact_prefix="$build/artifacts/$t/" "$f" >"$log" 2>&1; then
			grep -aE '^(fuzz: |SUMMARY|==[0-9]+==ERROR)' "$log" >&2 || true
			echo "fuzz: $t: regression input ${f#"$src"/} fails ($log)" >&2
			bad=$((bad + 1))
		fi
	done
	echo "== fuzz: $t: $n regression inputs, $bad failing"
	[ "$bad" -eq 0 ] || failed+=("$t (regression)")
done

if [ "$seconds" -gt 0 ]; then
	for t in "${targets[@]}"; do
		corpus=$build/corpus/$t
		mkdir -p "$corpus" "$build/artifacts/$t"
		[ -d "$fuzz/corpus/$t" ] && cp -f "$fuzz/corpus/$t"/* "$corpus"/
		opts=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048
			-max_len="${max_len[$t]}" -print_final_stats=1
			-artifact_prefix="$build/artifacts/$t/")
		[ -f "$fuzz/$t.dict" ] && opts+=(-dict="$fuzz/$t.dict")
		echo "== fuzz: $t for ${seconds}s"
		log=$build/logs/$t.log
		if "$build/$t" "${opts[@]}" "$corpus" >"$log" 2>&1; then
			# the last status line: #runs DONE cov: ft: corp: exec/s:
			last=$(grep -aE '^#[0-9]+' "$log" | tail -n 1 || true)
			execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
			rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
			echo "fuzz: $t: ${execs:-?} runs, ${rate:-?} exec/s; $last"
		else
			tail -n 60 "$log" >&2
			echo "fuzz: $t FAILED: its input is in $build/artifacts/$t/" \
				"(commit it to tests/fuzz/regress/$t/); log $log" >&2
			failed+=("$t")
		fi
	done
fi

if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: failed: ${failed[*]}" >&2
	exit 1
fi
echo "fuzz: all passed (${targets[*]})"
