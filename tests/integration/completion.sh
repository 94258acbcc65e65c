#!/usr/bin/env bash
# The shell completions of futurectl against a real futured:
# contrib/bash-completion/futurectl is driven as bash drives it (COMP_WORDS
# split at blanks and at '=' and ':', COMP_CWORD, COMP_LINE, COMP_POINT,
# then _futurectl) and its COMPREPLY checked: command names, the queue,
# schedule and rate subcommands once each, every option that `futurectl
# --help` and
# `futurectl COMMAND --help` list (so a new option without completion fails
# here), values (--color=, --state, --capture), option repeats, the task's
# own command after `--`, task ids of the tasks submitted here (filtered by
# state for cancel and retry), queue names of a queue made here, schedule
# and rate limit names of those made here (schedule add's task command
# after its NAME), asked of
# the daemon named by FUTURED_SOCKET, --socket, --socket= or --url with
# --token-file; with the daemon down, unreachable or hung: nothing offered,
# nothing on stderr, within a few seconds.  No completion prints anything
# on stderr, nor offers a word twice.  Run twice: in a plain bash under
# set -u, and with the bash-completion package loaded when it is installed;
# the id lookup also without jq (the table of `futurectl list`).
# contrib/zsh/_futurectl: parsed by `zsh -n`, covers every option and
# command, and completes in an interactive zsh (zpty, compinit): a command
# name, a queue, schedule and rate subcommand, an option, a value, a task
# id, a queue, schedule and rate limit name from the daemon, and schedule
# add's task command.  zsh is required (not skipped): apt-get install zsh.
. "$(dirname "$0")/harness.sh"
[ -x "$FUTURECTL" ] || fail "no $FUTURECTL"
BASH_COMP=$FUTURED_SRC/contrib/bash-completion/futurectl
ZSH_COMP=$FUTURED_SRC/contrib/zsh/_futurectl
[ -f "$BASH_COMP" ] || fail "no $BASH_COMP"
[ -f "$ZSH_COMP" ] || fail "no $ZSH_COMP"

# futurectl by its name, as a user has it, in a PATH of our own; no
# default socket or token of a daemon outside this test
mkdir -p "$T/bin" "$T/home" || fail "mkdir"
ln -s "$FUTURECTL" "$T/bin/futurectl" || fail "ln"
export PATH="$T/bin:$PATH" HOME="$T/home" XDG_STATE_HOME="$T/home/state"
unset FUTURED_SOCKET STATE_DIRECTORY

start_daemon --jobs 2 --listen 127.0.0.1:0
url=$(rpc daemon.info | jq -r '[.listen[] | select(startswith("tcp:"))][0] // empty')
[ -n "$url" ] || fail "no tcp listener in daemon.info"
url=http://${url#tcp:}
echo wrong >"$T/badtoken"

# what the daemon holds: a queue with settings, a finished task, an
# unfinished one (a sleep of an hour in that queue)
ctl queue set compq --concurrency 1 --create >/dev/null || fail "queue set --create"
ctl schedule add compsched --every 1h --paused -- true >/dev/null ||
    fail "schedule add"
ctl rate set comprate --starts 5 >/dev/null || fail "rate set"
done1=$(ctl submit --sleep 0) || fail "submit --sleep 0"
wait_done "$done1"
long=$(ctl submit --queue compq --sleep 3600) || fail "submit --sleep 3600"
wait_state "$long" running

# the commands and every command's options, from the help
cmds=$("$FUTURECTL" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 { print $1 }')
[ "$(wc -w <<<"$cmds")" -ge 15 ] || fail "futurectl --help lists: $cmds"
# help_opts [CMD]: the options CMD --help lists (-h, --help, --json, ...)
help_opts() {
	"$FUTURECTL" "$@" --help | sed -n '/^Options:/,/^$/p' |
	    grep -oE '^  (-[A-Za-z], )?--[a-z-]+' | tr -d ',' | tr -s ' ' '\n' |
	    grep -v '^$'
}

# ---- bash

: >"$T/comp-data.json"
mkdir "$T/comp-dir" || fail "mkdir"

# compopt works only while bash runs a completion for a TAB, not when the
# function is called as here (bash-completion's _command_offset calls it)
compopt() { :; }

# comp LINE: completes LINE with the cursor at its end, as bash does;
# COMPREPLY's words in R, one a line in $T/reply; the completion's stderr
# must be empty and no word offered twice.  COMP_WORDS is split as bash
# splits it: at blanks, and around each run of the characters '=', ':'
# and '@' that COMP_WORDBREAKS holds (bash-completion takes '@' out)
comp() {
	local line=$1 i ch tok="" brk="" kind=w
	for ch in = : @; do
		[[ $COMP_WORDBREAKS == *"$ch"* ]] && brk+=$ch
	done
	COMP_LINE=$line
	COMP_POINT=${#line}
	COMP_WORDS=()
	for ((i = 0; i < ${#line}; i++)); do
		ch=${line:i:1}
		if [ "$ch" = " " ]; then
			[ -n "$tok" ] && COMP_WORDS+=("$tok")
			tok=""
		elif [[ -n $brk && $brk == *"$ch"* ]]; then
			[[ -n $tok && $kind != b ]] && { COMP_WORDS+=("$tok"); tok=""; }
			tok+=$ch kind=b
		else
			[[ -n $tok && $kind == b ]] && { COMP_WORDS+=("$tok"); tok=""; }
			tok+=$ch kind=w
		fi
	done
	if [ -n "$tok" ]; then
		COMP_WORDS+=("$tok")
	elif [[ $line == *' ' ]]; then
		COMP_WORDS+=("")
	fi
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	PATH=${COMP_PATH:-$PATH} _futurectl futurectl \
	    "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" \
	    2>"$T/comp.err"
	R=(${COMPREPLY[@]+"${COMPREPLY[@]}"})
	: >"$T/reply"
	[ ${#R[@]} -eq 0 ] || printf '%s\n' "${R[@]}" >"$T/reply"
	[ ! -s "$T/comp.err" ] ||
	    fail "[$MODE] '$line': stderr: $(head -c 300 "$T/comp.err")"
	[ -n "${ALLOW_DUPS-}" ] || [ -z "$(sort "$T/reply" | uniq -d)" ] ||
	    fail "[$MODE] '$line': offers twice: $(sort "$T/reply" | uniq -d | tr '\n' ' ')"
}
# has LINE WORD...: completing LINE offers every WORD
has() {
	local line=$1 w
	shift
	comp "$line"
	for w in "$@"; do
		grep -qxF -- "$w" "$T/reply" ||
		    fail "[$MODE] '$line': want '$w' among: ${R[*]-}"
	done
}
# hasnt LINE WORD...: offers none of them
hasnt() {
	local line=$1 w
	shift
	comp "$line"
	for w in "$@"; do
		! grep -qxF -- "$w" "$T/reply" ||
		    fail "[$MODE] '$line': offers '$w': ${R[*]-}"
	done
}
# only LINE WORD...: offers exactly these words (any order; none: nothing)
only() {
	local line=$1 got want
	shift
	comp "$line"
	got=$(sort "$T/reply" | tr '\n' ' ')
	want=$(printf '%s\n' "$@" | sed '/^$/d' | sort | tr '\n' ' ')
	expect_eq "$got" "$want" "[$MODE] '$line'"
}

# the checks with the daemon up; FUTURED_SOCKET names it unless said
suite() {
	local c o
	export FUTURED_SOCKET=$SOCK

	# commands and the queue subcommands
	only "futurectl qu" queue
	only "futurectl " $cmds
	only "futurectl --json " $cmds
	only "futurectl queue " ls list set pause resume delete
	only "futurectl queue pa" pause
	only "futurectl queue --json " ls list set pause resume delete
	only "futurectl queue ls " 
	only "futurectl schedule " add ls list show rm pause resume run-now
	only "futurectl schedule run" run-now
	only "futurectl --json schedule " add ls list show rm pause resume run-now
	only "futurectl rate " set ls list rm
	only "futurectl rate ls " 

	# every option of every command, as its --help lists them
	has "futurectl -" $(help_opts)
	for c in $cmds; do
		case $c in
		queue) has "futurectl queue set compq -" $(help_opts queue) ;;
		schedule)
			has "futurectl schedule add nightly -" \
			    $(help_opts schedule | grep -vx -- --wait)
			has "futurectl schedule run-now compsched -" --wait --overlap ;;
		rate) has "futurectl rate set comprate -" $(help_opts rate) ;;
		*) has "futurectl $c -" $(help_opts "$c") ;;
		esac
	done
	has "futurectl submit -" --no-follow --no-raise --max-body -H --header \
	    --no-wait-reply --after --label --env --stdin-file --capture
	has "futurectl run -" --no-follow --no-raise --max-body -H --detach
	hasnt "futurectl run -" --no-wait-reply
	hasnt "futurectl submit -" --detach
	has "futurectl run --de" --detach
	only "futurectl run --det" --detach
	only "futurectl submit --no-" --no-follow --no-parent --no-raise --no-wait-reply
	has "futurectl logs -" -f --follow --stderr --json
	has "futurectl result --" --wait --timeout --json
	has "futurectl exception --" --wait --timeout
	has "futurectl wait --" --any --first-exception --timeout --queue --label --all
	has "futurectl delete --" --cancel --queue --state --label --all
	has "futurectl clean --" --older-than --state --queue --label
	hasnt "futurectl clean --" --all --cancel
	has "futurectl queue set compq --" --concurrency --create
	has "futurectl queue pause compq --" --create
	has "futurectl queue resume compq --" --create
	hasnt "futurectl queue delete compq --" --create --concurrency
	hasnt "futurectl queue ls --" --create --concurrency
	has "futurectl submit --" --concurrency --rate-limit --rate-key
	has "futurectl run --" --concurrency --rate-limit --rate-key
	has "futurectl schedule add nightly --every 5 --" --cron --tz --paused \
	    --concurrency --rate-limit --overlap --catchup --catchup-window
	hasnt "futurectl schedule add nightly --" --key --delay --not-before \
	    --after --parent --no-parent --wait --starts
	hasnt "futurectl schedule show compsched --" --wait --overlap --cron
	hasnt "futurectl schedule ls --" --wait --cron --queue
	has "futurectl rate set comprate --" --starts --per --burst
	hasnt "futurectl rate ls --" --starts --per
	hasnt "futurectl rate rm comprate --" --starts --burst
	has "futurectl -" --color --color= --socket --url --token-file --version
	# given once, not offered again; repeatable ones are
	hasnt "futurectl --json -" --json
	hasnt "futurectl list --all --" --all
	has "futurectl submit --label a=b --env X=1 -H x:y -" --label --env --after -H --header
	hasnt "futurectl submit --queue q --" --queue
	has "futurectl submit --concurrency a=1 --" --concurrency
	hasnt "futurectl submit --rate-limit r --" --rate-limit
	hasnt "futurectl schedule add n --cron x --" --cron

	# values
	only "futurectl --color=" auto always never
	only "futurectl --color=n" never
	only "futurectl list --state " pending running succeeded failed cancelled
	only "futurectl delete --state " succeeded failed cancelled
	only "futurectl clean --state=" succeeded failed cancelled
	only "futurectl submit --capture " text json
	has "futurectl submit --method " GET POST
	# files: --data @FILE keeps its '@' (readline replaces the whole word)
	has "futurectl submit --data @$T/comp-da" "@$T/comp-data.json"
	has "futurectl run --data=@$T/comp-da" "@$T/comp-data.json"
	has "futurectl submit --stdin-file $T/comp-da" "$T/comp-data.json"
	has "futurectl --socket $T/comp-da" "$T/comp-data.json"
	has "futurectl submit --cwd $T/comp-d" "$T/comp-dir"
	hasnt "futurectl submit --cwd $T/comp-d" "$T/comp-data.json"
	only "futurectl submit --timeout " 
	only "futurectl queue set compq --concurrency " 
	only "futurectl submit --concurrency " 
	only "futurectl rate set comprate --starts " 
	only "futurectl schedule add n --overlap " skip buffer_one allow_all cancel_other
	only "futurectl schedule run-now compsched --overlap=" skip buffer_one allow_all cancel_other
	only "futurectl schedule add n --catchup " latest all
	only "futurectl schedule add n --every " 

	# the task's own command line (bash-completion's command completion
	# may offer a name twice, a builtin and a file: bash shows it once)
	ALLOW_DUPS=1 has "futurectl submit -- ech" echo
	ALLOW_DUPS=1 has "futurectl run --queue compq ech" echo
	hasnt "futurectl run -- sh --qu" --queue
	hasnt "futurectl submit echo --" --json --queue
	ALLOW_DUPS=1 has "futurectl schedule add n -- ech" echo
	ALLOW_DUPS=1 has "futurectl schedule add n --every 5 ech" echo
	ALLOW_DUPS=1 has "futurectl schedule add --every 5 n ech" echo
	hasnt "futurectl schedule add n --every 5 echo --" --json --cron
	only "futurectl schedule add " 

	# task ids and queue names from the daemon
	has "futurectl get " "$done1" "$long"
	for c in result exception follow logs delete wait; do
		has "futurectl $c " "$done1" "$long"
	done
	has "futurectl --json get " "$done1" "$long"
	has "futurectl submit --after " "$done1" "$long"
	has "futurectl run --after=" "$done1" "$long"
	has "futurectl cancel " "$long"
	hasnt "futurectl cancel " "$done1"
	has "futurectl retry " "$done1"
	hasnt "futurectl retry " "$long"
	only "futurectl get $done1 " 
	has "futurectl wait $done1 " "$long"
	hasnt "futurectl wait $done1 " "$done1"
	only "futurectl wait --queue compq " 
	only "futurectl delete --all " 
	has "futurectl delete --cancel " "$long"
	has "futurectl submit --queue " compq default
	only "futurectl submit --queue comp" compq
	only "futurectl run --queue=comp" compq
	has "futurectl list --queue " compq default
	has "futurectl wait --queue " compq
	has "futurectl delete --queue " compq
	has "futurectl clean --queue " compq
	for c in set pause resume delete; do
		has "futurectl queue $c " compq default
	done
	only "futurectl queue pause compq " 
	for c in show rm pause resume run-now; do
		only "futurectl schedule $c " compsched
	done
	only "futurectl schedule show compsched " 
	only "futurectl schedule add " 
	only "futurectl schedule ls " 
	only "futurectl rate rm " comprate
	only "futurectl rate set " comprate
	only "futurectl rate rm comprate " 
	only "futurectl submit --rate-limit " comprate
	only "futurectl schedule add n --rate-limit=comp" comprate

	# the daemon the line names, not FUTURED_SOCKET's
	has "futurectl --socket $SOCK get " "$done1"
	has "futurectl --socket=$SOCK get " "$done1"
	has "futurectl --socket $SOCK submit --queue " compq
	only "futurectl --socket $T/nothing.sock get " 
	only "futurectl --socket=$T/nothing.sock queue pause " 
	unset FUTURED_SOCKET
	has "futurectl --socket $SOCK cancel " "$long"
	has "futurectl --url $url --token-file $STATE/token get " "$done1"
	has "futurectl --url=$url --token-file=$STATE/token queue pause " compq
	only "futurectl --url $url --token-file $T/badtoken get " 
	only "futurectl get " 
	export FUTURED_SOCKET=$SOCK
}

# the checks with the daemon down or hung ($1: the socket; $2: how many
# lookups, 7 when not given): nothing offered, nothing said, each within
# 4 s (it waits 2 s at most)
suite_down() {
	local t0 took line
	local -a lines=("futurectl get " "futurectl --socket $1 submit --queue "
	    "futurectl cancel " "futurectl retry " "futurectl queue pause "
	    "futurectl wait $done1 " "futurectl --socket=$1 get ")
	export FUTURED_SOCKET=$1
	for line in "${lines[@]:0:${2:-7}}"; do
		t0=$(now)
		only "$line"
		took=$(since "$t0")
		bc_true "$took < $(scaled 4)" ||
		    fail "[$MODE] '$line' with futured down ($1) took $took s"
	done
	only "futurectl qu" queue
	has "futurectl logs -" -f --follow
}

# run_mode NAME [bash-completion]: the suite in a subshell; set -u is on
# (the harness's) for our file; bash-completion's own file is sourced
# without it
run_mode() {
	(
		MODE=$1
		if [ -n "${2-}" ]; then
			set +u
			. "$2" || fail "sourcing $2"
			set -u
		fi
		. "$BASH_COMP" || fail "sourcing $BASH_COMP"
		complete -p futurectl >/dev/null 2>&1 || fail "[$MODE] no complete -F for futurectl"
		"${3:-suite}" "${@:4}"
	) || fail "bash completion, $1: the checks failed"
}

run_mode plain
BC=/usr/share/bash-completion/bash_completion
if [ -f "$BC" ]; then
	run_mode bash-completion "$BC"
else
	note "bash-completion is not installed: checked without it only"
fi

# ids without jq: the first columns of `futurectl list`
mkdir -p "$T/nojq" || fail "mkdir"
for tool in futurectl timeout awk; do
	p=$(type -P "$tool") || fail "no $tool"
	ln -s "$p" "$T/nojq/$tool" || fail "ln"
done
(
	MODE=no-jq
	COMP_PATH=$T/nojq
	. "$BASH_COMP"
	export FUTURED_SOCKET=$SOCK
	has "futurectl get " "$done1" "$long"
	has "futurectl cancel " "$long"
	hasnt "futurectl cancel " "$done1"
	has "futurectl retry " "$done1"
	hasnt "futurectl retry " "$long"
	has "futurectl queue pause " compq
	only "futurectl schedule show " compsched
	only "futurectl rate rm " comprate
) || fail "bash completion without jq: the checks failed"

# a daemon that accepts and never answers: the completion gives up
"$PYTHON" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(16)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' "$T/hung.sock" &
hung=$!
BG_PIDS="$BG_PIDS $hung"
poll_until 10 test -S "$T/hung.sock" || fail "no hung socket"
run_mode hung "" suite_down "$T/hung.sock" 3
kill "$hung"
wait "$hung" 2>/dev/null

# ---- zsh

command -v zsh >/dev/null ||
    fail "zsh is not installed: contrib/zsh/_futurectl is not checked (apt-get install zsh)"
zsh -n "$ZSH_COMP" 2>"$T/zsh.err" || fail "zsh -n $ZSH_COMP: $(cat "$T/zsh.err")"
head -n1 "$ZSH_COMP" | grep -qx '#compdef futurectl' || fail "$ZSH_COMP: no #compdef futurectl first"
for c in $cmds; do
	grep -qF -- "'$c:" "$ZSH_COMP" || fail "$ZSH_COMP: no command $c"
done
for s in ls list set pause resume delete add show rm run-now; do
	grep -qF -- "'$s:" "$ZSH_COMP" || fail "$ZSH_COMP: no queue, schedule or rate subcommand $s"
done
for o in $(help_opts; for c in $cmds; do help_opts "$c"; done | sort -u); do
	case $o in
	--*) grep -qE -- "(^|[^a-z-])$o([]=},[])" "$ZSH_COMP" ;;
	*) grep -qF -- "{$o" "$ZSH_COMP" ;;
	esac || fail "$ZSH_COMP: no option $o"
done

# An interactive zsh on a pty, completion loaded from contrib/zsh;
# futurectl is a function there that prints its arguments, so typing a
# line, TAB and Enter shows what the completion made of the line (its
# lookups run the real futurectl).
cat >"$T/zcomp.zsh" <<'EOF'
# zcomp.zsh FPATH_DIR LINE...: one "RAN:args" line a LINE
zmodload zsh/zpty zsh/datetime || exit 3
dir=$1; shift
zpty z zsh -f -i || exit 3
zpty -w z "PS1='%% '; RPS1=''; unsetopt beep; fpath=($dir \$fpath); autoload -Uz compinit; compinit -u -D; futurectl() { print -r -- \"RAN:\$*\" }; print READY\$((6*7))"
out=""
readuntil() {
	local chunk end=$(( EPOCHREALTIME + $2 ))
	while (( EPOCHREALTIME < end )); do
		if zpty -rt z chunk 2>/dev/null; then
			out+=$chunk
			[[ $out == *$~1* ]] && return 0
		else
			sleep 0.02
		fi
	done
	return 1
}
readuntil 'READY42' 20 || { print -r -- "zsh did not start: ${(q+)out}"; exit 4; }
cr=$'\r'
for l in "$@"; do
	out=""
	zpty -w -n z "$l"$'\t'
	zpty -w -n z $'\r'
	if readuntil $'RAN:*[\r\n]' 20; then
		lines=( ${(f)${out//$cr/}} )
		got=${${(M)lines:#*RAN:*}[1]}
		print -r -- "RAN:${got#*RAN:}"
		[[ $out != *"futurectl: "* ]] || print -r -- "SAID: ${(q+)out}"
	else
		print -r -- "NOTHING for '$l': ${(q+)out}"
	fi
done
zpty -d z
EOF
zlines=(
	"futurectl qu"
	"futurectl queue pa"
	"futurectl run --det"
	"futurectl logs --std"
	"futurectl --color=al"
	"futurectl delete --state ca"
	"futurectl cancel "
	"futurectl submit --queue comp"
	"futurectl --socket $SOCK queue delete comp"
	"futurectl submit -- ech"
	"futurectl sched"
	"futurectl schedule run-"
	"futurectl schedule pause comps"
	"futurectl schedule add n --every 5 -- ech"
	"futurectl schedule add n --ov"
	"futurectl rate s"
	"futurectl rate rm compr"
	"futurectl submit --rate-limit compr"
	"futurectl submit --concurr"
)
zwant=(
	"RAN:queue"
	"RAN:queue pause"
	"RAN:run --detach"
	"RAN:logs --stderr"
	"RAN:--color=always"
	"RAN:delete --state cancelled"
	"RAN:cancel $long"
	"RAN:submit --queue compq"
	"RAN:--socket $SOCK queue delete compq"
	"RAN:submit -- echo"
	"RAN:schedule"
	"RAN:schedule run-now"
	"RAN:schedule pause compsched"
	"RAN:schedule add n --every 5 -- echo"
	"RAN:schedule add n --overlap"
	"RAN:rate set"
	"RAN:rate rm comprate"
	"RAN:submit --rate-limit comprate"
	"RAN:submit --concurrency"
)
FUTURED_SOCKET=$SOCK timeout "$(scaled 120)" zsh -f "$T/zcomp.zsh" \
    "$(dirname "$ZSH_COMP")" "${zlines[@]}" >"$T/zsh.out" 2>"$T/zsh.err"
zrc=$?
[ "$zrc" = 0 ] || fail "zsh completion test: exit $zrc: $(tail -c 600 "$T/zsh.out") $(tail -c 600 "$T/zsh.err")"
mapfile -t zgot <"$T/zsh.out"
for i in "${!zlines[@]}"; do
	expect_eq "${zgot[i]-}" "${zwant[i]}" "zsh: '${zlines[i]}<TAB>'"
done

# ---- the daemon stopped: quiet and quick, bash and zsh
stop_daemon
run_mode stopped "" suite_down "$SOCK"
FUTURED_SOCKET=$SOCK timeout "$(scaled 60)" zsh -f "$T/zcomp.zsh" \
    "$(dirname "$ZSH_COMP")" "futurectl cancel " "futurectl qu" >"$T/zsh.out" 2>"$T/zsh.err"
expect_eq "$(cat "$T/zsh.out")" $'RAN:cancel\nRAN:queue' "zsh with futured stopped"
! grep -q "futurectl:" "$T/zsh.out" "$T/zsh.err" || fail "zsh with futured stopped printed an error"

note "completion: ok"
