#!/usr/bin/env bash
# smbtorture conformance: run whole suites against cifsd and Samba's smbd in the
# same run and print per-test results side by side, then the tests cifsd
# passes that test/smbtorture/pass.txt does not list yet (candidates to add)
# and the listed ones it failed here.
#
#   scripts/conformance.sh [SUITE...]      (make conformance SUITES="smb2.lock smb2.read")
#
# With no SUITE: every smb2 suite but the Samba-only ones, which hang against
# any other server. Needs root (smbd) and the peers (scripts/install-peers.sh).
# CONFORMANCE_SERVERS="cifsd samba" (default) picks the servers: cifsd runs
# with '-signing enabled' as pass.txt was measured, cifsd-defaults with the
# daemon's defaults (signing required), so "cifsd cifsd-defaults samba" runs
# the whole list both ways; CONFORMANCE_SAMBA_SIGNING=mandatory gives smbd
# "server signing = mandatory", the reference for cifsd-defaults;
# CONFORMANCE_SUITE_TIMEOUT (600 s) bounds a suite, TORTURE_TEST_TIMEOUT
# (60 s here) a test; CONFORMANCE_OUT=FILE also keeps the table in FILE.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

PASS_LIST=${CONFORMANCE_PASS_LIST:-$REPO_ROOT/test/smbtorture/pass.txt}
SERVERS=${CONFORMANCE_SERVERS:-cifsd samba}
export TORTURE_GROUP_TIMEOUT=${CONFORMANCE_SUITE_TIMEOUT:-600}
export TORTURE_TEST_TIMEOUT=${TORTURE_TEST_TIMEOUT:-60}
# Samba-only (need its modules or config), interactive (hold-*) or benchmarks.
SAMBA_ONLY='^smb2\.(aio_delay|twrp|kernel-oplocks|samba3misc|async_dosmode|notify-inotify|change_notify_disabled|check-sharemode|hold-oplock|hold-sharemode|bench)$'

work=$(mktemp -d /tmp/conformance.XXXXXX)
declare -A srv_port=() srv_dir=() srv_pid=() srv_tmp=()
cleanup() {
	local s
	for s in "${!srv_tmp[@]}"; do
		CIFSD_PID=${srv_pid[$s]} CIFSD_DIR=${srv_tmp[$s]} stop_cifsd
	done
	stop_samba
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

suites=("$@")
if [ ${#suites[@]} -eq 0 ]; then
	mapfile -t suites < <(timeout 60 smbtorture --list 2>/dev/null |
		sed -n 's/^\(smb2\.[^.]*\)\..*/\1/p' | awk '!seen[$0]++' | grep -Ev "$SAMBA_ONLY")
fi
[ ${#suites[@]} -gt 0 ] || die "no suites"

servers=()
for s in $SERVERS; do
	case $s in
	cifsd | cifsd-defaults)
		if ! cifsd_available; then
			log "conformance: no ./cmd/cifsd yet; running Samba only"
			continue
		fi
		# The configurations interop.sh runs pass.txt with (see there):
		# signing enabled, or the defaults (signing required); null
		# sessions and a second user in both.
		if [ "$s" = cifsd ]; then
			flags=${CIFSD_FLAGS:--signing enabled -anonymous -user tester2:testpass2}
		else
			flags=${CIFSD_DEFAULTS_FLAGS:--anonymous -user tester2:testpass2}
		fi
		CIFSD_PORT='' CIFSD_FLAGS=$flags start_cifsd "" || die "$s did not start"
		srv_port[$s]=$CIFSD_PORT srv_dir[$s]=$CIFSD_SHARE_DIR srv_pid[$s]=$CIFSD_PID srv_tmp[$s]=$CIFSD_DIR
		CIFSD_PID='' CIFSD_DIR=''
		;;
	samba)
		if [ "${CONFORMANCE_SAMBA_SIGNING:-}" = mandatory ]; then
			export SAMBA_EXTRA_GLOBAL="${SAMBA_EXTRA_GLOBAL:-}
  server signing = mandatory"
		fi
		start_samba "" || die "smbd did not start"
		srv_port[$s]=$SAMBA_PORT srv_dir[$s]=$SAMBA_SHARE_DIR srv_pid[$s]=$SAMBA_PID
		;;
	*) die "unknown server $s" ;;
	esac
	servers+=("$s")
done
[ ${#servers[@]} -gt 0 ] || die "no server to test"
for srv in "${servers[@]}"; do : >"$work/$srv.results"; done

# run_suite SERVER SUITE: results appended to $work/SERVER.results.
run_suite() {
	local srv=$1 suite=$2 port=${srv_port[$1]} dir=${srv_dir[$1]}
	TORTURE_OPTS="${TORTURE_OPTS:-} --option=torture:user2name=tester2 --option=torture:user2password=testpass2" \
		SMB_PORT=$port SMB_SHARE_DIR=$dir "$REPO_ROOT/test/interop/smbtorture.sh" \
		-r "$work/r" -t "$suite" >"$work/$srv.log" 2>&1 || true
	cat "$work/r" >>"$work/$srv.results"
	log "  $srv: $(tail -n1 "$work/$srv.log")"
	# a dead server fails every later suite: say so and stop early
	kill -0 "${srv_pid[$srv]}" 2>/dev/null || die "$srv died during $suite"
	return 0
}

t0=$SECONDS
for suite in "${suites[@]}"; do
	log "conformance: $suite ($((SECONDS - t0)) s so far)"
	for srv in "${servers[@]}"; do
		run_suite "$srv" "$suite"
	done
done

# Side by side: test, then one status column per server.
files=()
for srv in "${servers[@]}"; do files+=("$work/$srv.results"); done
{
	printf '%-64s' TEST
	for srv in "${servers[@]}"; do printf ' %-9s' "$srv"; done
	echo
	awk -F'\t' -v srvs="${servers[*]}" '
		BEGIN { n = split(srvs, S, " "); for (i = 1; i < ARGC; i++) idx[ARGV[i]] = i }
		{ f = idx[FILENAME]; if (!($2 in order)) { order[$2] = ++cnt; name[cnt] = $2 } st[f, $2] = $1 }
		END {
			for (i = 1; i <= cnt; i++) {
				t = name[i]; line = sprintf("%-64s", t)
				for (k = 1; k <= n; k++) line = line sprintf(" %-9s", ((k, t) in st) ? st[k, t] : "-")
				print line
			}
		}' "${files[@]}"
	echo
	for srv in "${servers[@]}"; do
		printf '%s: %s passed of %s run\n' "$srv" \
			"$(grep -c '^success' "$work/$srv.results" || true)" "$(grep -c . "$work/$srv.results" || true)"
	done
} >"$work/table"

listed() { # tests (stdin) covered by an entry of list $1 (a test or a suite)
	awk 'NR == FNR { sub(/#.*/, ""); gsub(/^[ \t]+|[ \t]+$/, ""); if ($0 != "") L[$0] = 1; next }
		{ t = $0; while (1) { if (t in L) { print $0; next } if (t !~ /\./) next; sub(/\.[^.]*$/, "", t) } }' \
		"$1" -
}
for srv in cifsd cifsd-defaults; do
	[[ " ${servers[*]} " == *" $srv "* ]] || continue
	mode=enabled
	[ "$srv" = cifsd-defaults ] && mode=required
	# pass.txt less the tests marked as passing with the other policy only
	PASS_LIST=$PASS_LIST "$REPO_ROOT/test/interop/passlist.sh" "$mode" >"$work/$srv.list"
	awk -F'\t' '$1 == "success" { print $2 }' "$work/$srv.results" | sort >"$work/$srv.pass"
	listed "$work/$srv.list" <"$work/$srv.pass" | sort >"$work/$srv.pass.listed"
	cut -f2 "$work/$srv.results" | listed "$work/$srv.list" | sort >"$work/$srv.run.listed"
	{
		echo
		echo "$srv passes these, not yet in ${PASS_LIST#"$REPO_ROOT"/} for signing $mode (candidates to add):"
		comm -23 "$work/$srv.pass" "$work/$srv.pass.listed" | sed 's/^/  /'
		echo "listed in ${PASS_LIST#"$REPO_ROOT"/} for signing $mode but not passed by $srv in this run:"
		comm -23 "$work/$srv.run.listed" "$work/$srv.pass" | sed 's/^/  /'
	} >>"$work/table"
done

cat "$work/table"
[ -z "${CONFORMANCE_OUT:-}" ] || cp "$work/table" "$CONFORMANCE_OUT"
