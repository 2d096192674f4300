#!/usr/bin/env bash
# Run smbtorture tests against a running SMB server and report per test.
#
#   test/interop/smbtorture.sh [-r RESULTS] LISTFILE     tests named in a file
#   test/interop/smbtorture.sh [-r RESULTS] -t NAME...   tests or whole suites
#
# LISTFILE: one name a line (smb2.lease.request, or a suite such as smb2.lease);
# '#' starts a comment. Names are expanded against `smbtorture --list`.
# Target: SMB_HOST SMB_PORT SMB_SHARE SMB_USER SMB_PASS (scripts/lib.sh).
# Tests of one suite run in one smbtorture process (fast); each test still has
# its own time limit: when no new test starts for TORTURE_TEST_TIMEOUT seconds
# (default 120) the process is killed, the running test counts as a timeout and
# the rest are run again. A test known to take longer by its own sleeps has its
# own limit: TORTURE_SLOW_TESTS, "NAME=SECONDS ..." (default below), wins over
# TORTURE_TEST_TIMEOUT when larger. TORTURE_GROUP_TIMEOUT (seconds, default 0 = none)
# bounds one suite as a whole. TORTURE_RACY_TESTS (below) names the tests
# whose timeout is retried (TORTURE_RACY_RETRIES times). Extra smbtorture arguments: TORTURE_OPTS (e.g.
# "--option=torture:sharedelay=100000"). If SMB_SHARE_DIR names the share's
# directory on this machine, it is emptied before each suite (as ksmbd's CI does).
# RESULTS gets "STATUS<TAB>TEST" lines; smbtorture logs go to TORTURE_LOG_DIR
# if set. Prints ok:/FAIL: per test and "N passed, M failed"; exits non-zero
# unless every listed test succeeded.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"

usage() { die "usage: $0 [-r RESULTS] LISTFILE | $0 [-r RESULTS] -t NAME..."; }
results=/dev/null
names=()
while [ $# -gt 0 ]; do
	case $1 in
	-r) results=$2; shift 2 ;;
	-t) shift; names+=("$@"); break ;;
	-h | --help) usage ;;
	*)
		[ -f "$1" ] || die "no such list file: $1"
		while IFS= read -r line || [ -n "$line" ]; do
			line=${line%%#*}
			line=$(printf '%s' "$line" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//')
			[ -n "$line" ] && names+=("$line")
		done <"$1"
		shift
		;;
	esac
done
: "${SMB_PORT:?set SMB_PORT (and SMB_HOST SMB_SHARE SMB_USER SMB_PASS)}"
PER_TEST=${TORTURE_TEST_TIMEOUT:-120}
# smb2.notify.mask sleeps ~80 s of its own (one change per filter bit).
declare -A slow_limit=()
read -r -a slow_kv <<<"${TORTURE_SLOW_TESTS-smb2.notify.mask=180}"
for kv in ${slow_kv[@]+"${slow_kv[@]}"}; do
	slow_limit[${kv%%=*}]=${kv#*=}
done
# A test whose hang is a race in smbtorture itself, seen against Samba's smbd
# too, is run again after a timeout, up to TORTURE_RACY_RETRIES times
# (default 2), before the timeout counts: TORTURE_RACY_TESTS, names
# separated by spaces. smb2.notify.basedir sends
# its CHANGE_NOTIFY and then, on its second connection, the change it waits
# for, without waiting for the interim: under load the notify reaches the
# server after the change, which no server reports then (doc/ARCHITECTURE.md,
# "Request order", CHANGE_NOTIFY).
RACY_RETRIES=${TORTURE_RACY_RETRIES:-2}
declare -A racy=() retried=()
read -r -a racy_names <<<"${TORTURE_RACY_TESTS-smb2.notify.basedir}"
for n in ${racy_names[@]+"${racy_names[@]}"}; do racy[$n]=1; done
GROUP_MAX=${TORTURE_GROUP_TIMEOUT:-0}
read -r -a EXTRA <<<"${TORTURE_OPTS:-}"
: >"$results"

work=$(mktemp -d /tmp/smbtorture-run.XXXXXX)
torture_pid=''
cleanup() {
	[ -n "$torture_pid" ] && kill_wait "$torture_pid"
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ${#names[@]} -eq 0 ]; then
	log "smbtorture: no tests listed"
	summary
	exit
fi

# The catalog: `smbtorture --list` prints SUITE...TCASE.TEST with TCASE = TEST
# for every smb2 test; the test's name is that line less its last component.
timeout 60 smbtorture --list 2>/dev/null | sed -n 's/^\([a-z0-9_-]*\..*\)\.[^.]*$/\1/p' >"$work/catalog"

# Expand each requested name to leaf tests, in catalog order, without repeats.
declare -A seen=()
tests=()
for n in "${names[@]}"; do
	mapfile -t found < <(awk -v n="$n" '$0 == n || index($0, n ".") == 1' "$work/catalog")
	if [ ${#found[@]} -eq 0 ]; then
		fail "$n: no such smbtorture test"
		printf 'unknown\t%s\n' "$n" >>"$results"
		continue
	fi
	for t in "${found[@]}"; do
		[ -n "${seen[$t]:-}" ] && continue
		seen[$t]=1
		tests+=("$t")
	done
done

declare -A status=() reason=()

# record TEST STATUS [REASON]: the final word on one test.
record() {
	status[$1]=$2
	reason[$1]=${3:-}
	printf '%s\t%s\n' "$2" "$1" >>"$results"
	if [ "$2" = success ]; then
		ok "$1"
	else
		fail "$1 ($2${3:+: $3})"
	fi
}

# parse OUT TESTS...: attribute the result lines in OUT (which name a test by
# its last component only) to TESTS, in order. Sets `current` to the index of
# the test that started last and has no result yet (-1 if none).
parse() {
	local out=$1 kind name j cur=-1 next=0 why line inreason=0
	shift
	local -a ts=("$@")
	current=-1
	while IFS= read -r line; do
		if [ "$inreason" = 1 ]; then
			[ "$line" = "]" ] && { inreason=0; continue; }
			[ -z "$why" ] && why=$line
			[ "$cur" -ge 0 ] && reason[${ts[$cur]}]=$why
			continue
		fi
		[[ $line =~ ^(test|success|failure|error|skip|xfail|uxsuccess|skip-testsuite):\ (.*)$ ]] || continue
		kind=${BASH_REMATCH[1]} name=${BASH_REMATCH[2]}
		[[ $name == *" [" ]] && { name=${name% \[}; inreason=1; why=''; }
		name=${name%% \[*}
		if ! { [ "$cur" -ge 0 ] && [ "${ts[$cur]##*.}" = "$name" ]; }; then
			for ((j = next; j < ${#ts[@]}; j++)); do
				[ "${ts[$j]##*.}" = "$name" ] && break
			done
			[ "$j" -lt ${#ts[@]} ] || { inreason=0; continue; }
			cur=$j next=$((j + 1))
		fi
		if [ "$kind" = test ]; then
			current=$cur
		else
			[ "$kind" = skip-testsuite ] && kind=skip
			status[${ts[$cur]}]=$kind
			[ "$current" = "$cur" ] && current=-1
		fi
	done <"$out"
}

# run_group TESTS...: run the tests of one suite; every test gets a status.
run=0
run_group() {
	local -a pending=("$@") left
	local start=$SECONDS out seen_tests last_tests last_change killed t hung progress limit running
	while [ ${#pending[@]} -gt 0 ]; do
		if [ -n "${SMB_SHARE_DIR:-}" ] && [ -d "$SMB_SHARE_DIR" ]; then
			find "$SMB_SHARE_DIR" -mindepth 1 -delete 2>/dev/null || true
		fi
		run=$((run + 1))
		out=$work/out.$run
		for t in "${pending[@]}"; do unset "status[$t]" "reason[$t]"; done
		smbtorture "//$SMB_HOST/$SMB_SHARE" -p "$SMB_PORT" -U "$SMB_USER%$SMB_PASS" \
			${EXTRA[@]+"${EXTRA[@]}"} "${pending[@]}" >"$out" 2>&1 </dev/null &
		torture_pid=$!
		killed='' last_tests=-1 last_change=$SECONDS limit=$PER_TEST
		while kill -0 "$torture_pid" 2>/dev/null; do
			sleep 0.2
			seen_tests=$(grep -c '^test: ' "$out" || true)
			if [ "$seen_tests" != "$last_tests" ]; then
				last_tests=$seen_tests last_change=$SECONDS limit=$PER_TEST
				# the running test, by its full name (the suite's prefix)
				running=$(sed -n 's/^test: //p' "$out" 2>/dev/null | tail -n1 || true)
				running=${pending[0]%.*}.$running
				if [ "$seen_tests" -gt 0 ] && [ "${slow_limit[$running]:-0}" -gt "$limit" ]; then
					limit=${slow_limit[$running]}
				fi
			elif [ $((SECONDS - last_change)) -ge "$limit" ]; then
				killed="timeout after ${limit}s"
			fi
			if [ "$GROUP_MAX" -gt 0 ] && [ $((SECONDS - start)) -ge "$GROUP_MAX" ]; then
				killed="suite timeout after ${GROUP_MAX}s"
			fi
			if [ -n "$killed" ]; then
				kill_wait "$torture_pid"
				break
			fi
		done
		wait "$torture_pid" 2>/dev/null || true
		torture_pid=''
		[ -n "${TORTURE_LOG_DIR:-}" ] && mkdir -p "$TORTURE_LOG_DIR" &&
			cp "$out" "$TORTURE_LOG_DIR/$(printf '%03d' "$run")-${pending[0]}.log"
		parse "$out" "${pending[@]}"
		hung=''
		[ "$current" -ge 0 ] && hung=${pending[$current]}
		left=()
		for t in "${pending[@]}"; do
			if [ -n "${status[$t]:-}" ]; then
				record "$t" "${status[$t]}" "${reason[$t]:-}"
			else
				left+=("$t")
			fi
		done
		progress=$((${#pending[@]} - ${#left[@]}))
		pending=(${left[@]+"${left[@]}"})
		[ ${#pending[@]} -gt 0 ] || break
		if [[ $killed == suite* ]]; then
			for t in "${pending[@]}"; do record "$t" timeout "$killed"; done
			break
		fi
		# Blame one test, then run the rest again: the test that was running
		# when smbtorture hung or died, or, when nothing at all got a result,
		# the first one (so every round makes progress).
		if [ -z "$hung" ] && [ -z "$killed" ] && [ "$progress" -gt 0 ]; then
			continue
		fi
		[ -n "$hung" ] || hung=${pending[0]}
		if [ -n "$killed" ] && [ -n "${racy[$hung]:-}" ] && [ "${retried[$hung]:-0}" -lt "$RACY_RETRIES" ]; then
			retried[$hung]=$((${retried[$hung]:-0} + 1))
			log "smbtorture: $hung $killed; a race of smbtorture's own (TORTURE_RACY_TESTS): again (${retried[$hung]} of $RACY_RETRIES)"
			continue
		fi
		if [ -n "$killed" ]; then
			record "$hung" timeout "$killed"
		else
			record "$hung" error "no result: $(grep -m1 -iE 'unknown torture|NT_STATUS|error|fail' "$out" || tail -n1 "$out")"
		fi
		left=()
		for t in "${pending[@]}"; do [ "$t" = "$hung" ] || left+=("$t"); done
		pending=(${left[@]+"${left[@]}"})
	done
}

# Run consecutive tests of the same suite together.
group=()
gsuite=''
for t in "${tests[@]}"; do
	s=${t%.*}
	if [ ${#group[@]} -gt 0 ] && [ "$s" != "$gsuite" ]; then
		run_group "${group[@]}"
		group=()
	fi
	gsuite=$s
	group+=("$t")
done
[ ${#group[@]} -gt 0 ] && run_group "${group[@]}"

summary
