#!/usr/bin/env bash
# Metadata and per-request benchmark, cifsd against Samba's smbd on loopback
# (part of `make bench`; alone: `make bench-meta`). Three parts (BENCH_PARTS):
#   meta     cmd/smbbench, the same workload against both servers, both
#            serving a /dev/shm directory: create+close of BENCH_META_FILES
#            (10000) files in one directory, then for BENCH_META_TIME (3s)
#            each: stat (open+close), listing the whole directory, rename,
#            delete; with each of BENCH_META_CONNS (1,8) connections.
#            Servers alternate (cifsd, samba, cifsd, samba) per count.
#   torture  smbtorture smb2.bench.echo and smb2.bench.path-contention-shared
#            (4 connections) for BENCH_TORTURE_TIME (5) seconds against each
#            server: the mean of its per-second rates (echo: echoes/s,
#            path-contention-shared: opens/s; each open has its close).
#   slow     cmd/smbbench -slow: an in-process cifsd serving an in-memory
#            share behind internal/latencyfs, BENCH_SLOW_DELAY (5ms) added
#            to every backend call, with BENCH_SLOW_CONNS (1,32) clients for
#            BENCH_SLOW_TIME (5s) per phase: create, stat, rename, delete
#            rates, the ratio of the last count's rate to the first's, and
#            the backend calls per operation (counted by the wrapper: what
#            a delay costs does not depend on how loaded the machine is).
# The client of meta and slow (BENCH_META_CLIENT) is cmd/smbbench's
# -client wire by default: internal/smbwire, a small client sending for
# each operation what go-smb2 sends (dialect 3.1.1, the same CREATE fields
# and listing buffers) at a fraction of its CPU. The bench measures
# servers: with one connection an operation's wall time is the client's
# CPU plus the server's, and with 8 connections on 2 cores the client
# competes for the cores, so a client as costly as the servers (go-smb2:
# about as much CPU per stat as cifsd) pulls both servers' rates toward
# each other. BENCH_META_CLIENT=gosmb2 runs the old client, go-smb2. The
# meta table gives the client's CPU ms per op too (smbbench's own CPU).
# Rates are operations per second of wall time, all connections together;
# the ratio column is cifsd/samba (> 1: cifsd faster). The meta and torture
# rows also give the server CPU time per operation (ms/op: user + system of
# the server process and its descendants, from /proc: smbd forks one per
# connection) and samba/cifsd of it (> 1: cifsd cheaper). On a loaded
# machine the rates swing with what else runs; CPU per operation much less.
#   BENCH_ONLY=samba|cifsd    one server only (no ratios)
#   BENCH_SIGNING=required|enabled (required) both servers' signing policy
#   BENCH_META_CLIENT=wire|gosmb2 (wire) smbbench's client, meta and slow
# Needs root (smbd) and the peers (scripts/install-peers.sh).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

PARTS=${BENCH_PARTS:-meta torture slow}
FILES=${BENCH_META_FILES:-10000}
META_CONNS=${BENCH_META_CONNS:-1,8}
META_TIME=${BENCH_META_TIME:-3s}
TORTURE_TIME=${BENCH_TORTURE_TIME:-5}
SLOW_DELAY=${BENCH_SLOW_DELAY:-5ms}
SLOW_CONNS=${BENCH_SLOW_CONNS:-1,32}
SLOW_TIME=${BENCH_SLOW_TIME:-5s}
CLIENT=${BENCH_META_CLIENT:-wire}
case $CLIENT in
wire) client_why="internal/smbwire: less client CPU per op than either server, so the rates compare servers" ;;
gosmb2) client_why="go-smb2: about as much client CPU per op as the servers, which pulls the ratios toward 1" ;;
*) die "BENCH_META_CLIENT must be wire or gosmb2" ;;
esac

SIGNING=${BENCH_SIGNING:-required}
case $SIGNING in
required) samba_signing=mandatory ;;
enabled) samba_signing=auto ;;
*) die "BENCH_SIGNING must be required or enabled" ;;
esac
export CIFSD_FLAGS="${CIFSD_FLAGS:-} -signing $SIGNING"
export SAMBA_EXTRA_GLOBAL="  server signing = $samba_signing"

servers=()
case ${BENCH_ONLY:-} in
'') servers=(cifsd samba) ;;
cifsd | samba) servers=("$BENCH_ONLY") ;;
*) die "BENCH_ONLY must be cifsd or samba" ;;
esac

has_part() { [[ " $PARTS " == *" $1 "* ]]; }

work=$(mktemp -d /dev/shm/cifsd-bench-meta.XXXXXX)
chmod 755 "$work" # Samba serves its share as the unprivileged test user
cleanup() {
	stop_cifsd
	stop_samba
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "bench-meta: building cmd/smbbench"
(cd "$REPO_ROOT" && timeout 600 go build -o "$work/smbbench" ./cmd/smbbench) || die "smbbench build failed"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b > 0) printf "%.2f", a / b; else print "n/a" }'; }

avail=()
if has_part meta || has_part torture; then
	for s in "${servers[@]}"; do
		case $s in
		cifsd)
			if ! cifsd_available; then
				echo "bench-meta: cifsd skipped: ./cmd/cifsd has no main package yet"
				continue
			fi
			mkdir -p "$work/cifsd"
			start_cifsd "$work/cifsd" || die "cifsd did not start"
			;;
		samba)
			mkdir -p "$work/samba"
			start_samba "$work/samba" || die "smbd did not start"
			;;
		esac
		avail+=("$s")
	done
fi
port_of() { if [ "$1" = cifsd ]; then echo "$CIFSD_PORT"; else echo "$SAMBA_PORT"; fi; }
pid_of() { if [ "$1" = cifsd ]; then echo "$CIFSD_PID"; else echo "$SAMBA_PID"; fi; }
# ticks SERVER: its CPU so far, clock ticks (1/100 s), empty when unknown.
ticks() { "$work/smbbench" -ticks -pid "$(pid_of "$1")" 2>/dev/null || true; }

# ---------------------------------------------------------------- meta
if has_part meta && [ ${#avail[@]} -gt 0 ]; then
	: >"$work/meta.tsv"
	IFS=, read -r -a counts <<<"$META_CONNS"
	for n in "${counts[@]}"; do
		for s in "${avail[@]}"; do
			log "bench-meta: $s, $n connection(s), $FILES files"
			timeout 900 "$work/smbbench" -addr "127.0.0.1:$(port_of "$s")" -share "$SMB_SHARE" \
				-user "$SMB_USER" -pass "$SMB_PASS" -label "$s" -conns "$n" -files "$FILES" \
				-time "$META_TIME" -pid "$(pid_of "$s")" -client "$CLIENT" >>"$work/meta.tsv" || die "smbbench against $s failed"
		done
	done
	echo "bench-meta: metadata, $FILES files in one directory, /dev/shm shares, server signing $SIGNING"
	echo "  client $CLIENT ($client_why)"
	echo "  ops/s (list: whole listings/s), server CPU ms per op (list: per listing), and the client's"
	echo "  (smbbench's) CPU ms per op against each server (cl cifsd, cl samba)"
	printf '%-8s %5s | %10s %10s %11s | %9s %9s %11s | %9s %9s\n' op conns 'cifsd op/s' 'samba op/s' cifsd/samba \
		'cifsd ms' 'samba ms' samba/cifsd 'cl cifsd' 'cl samba'
	for op in create stat list rename delete; do
		for n in "${counts[@]}"; do
			# col SERVER FIELD: the field of this row's line of SERVER
			col() { awk -v s="$1" -v f="$2" -v op="$op" -v n="$n" '$1 == s && $2 == n && $3 == op && $f != "-" { print $f }' "$work/meta.tsv"; }
			c=$(col cifsd 4) m=$(col samba 4) cc=$(col cifsd 8) mc=$(col samba 8) ck=$(col cifsd 9) mk=$(col samba 9)
			printf '%-8s %5s | %10s %10s %11s | %9s %9s %11s | %9s %9s\n' "$op" "$n" "${c:--}" "${m:--}" "$(ratio "$c" "$m")" \
				"${cc:--}" "${mc:--}" "$(ratio "$mc" "$cc")" "${ck:--}" "${mk:--}"
		done
	done
	echo
fi

# ---------------------------------------------------------------- torture
# torture_rate SERVER TEST KIND: mean of the per-second KIND[num/s=N] rates,
# then the server's CPU ms per operation (the operations: the sum of the
# per-second rates), space-separated.
torture_rate() {
	local s=$1 t=$2 kind=$3 out="$work/torture.$1.$2" t0 t1
	t0=$(ticks "$s")
	timeout $((TORTURE_TIME + 120)) smbtorture "//127.0.0.1/$SMB_SHARE" -p "$(port_of "$s")" \
		-U "$SMB_USER%$SMB_PASS" --option=torture:timelimit="$TORTURE_TIME" "$t" >"$out" 2>&1 || true
	t1=$(ticks "$s")
	if ! grep -q "^success: " "$out"; then
		log "bench-meta: smbtorture $t against $s did not succeed: $(tr '\r\n' '  ' <"$out" | tail -c 300)"
		echo ""
		return 0
	fi
	tr '\r' '\n' <"$out" | grep -o "$kind\[num/s=[0-9]*" | sed 's/.*=//' |
		awk -v t0="$t0" -v t1="$t1" '{ s += $1; n++ }
			END { if (!n) exit; printf "%.0f ", s / n
			      if (t0 != "" && t1 != "" && s > 0) printf "%.4f", (t1 - t0) * 10 / s; else printf "-" }'
}

if has_part torture && [ ${#avail[@]} -gt 0 ]; then
	declare -A trate=()
	for t in echo:echo path-contention-shared:open; do
		name=${t%%:*} kind=${t#*:}
		for s in "${avail[@]}"; do
			log "bench-meta: smbtorture smb2.bench.$name against $s, ${TORTURE_TIME}s"
			trate[$s.$name]=$(torture_rate "$s" "smb2.bench.$name" "$kind")
		done
	done
	echo "bench-meta: smbtorture smb2.bench, 4 connections, ${TORTURE_TIME}s each, mean of per-second rates"
	echo "  and server CPU ms per operation (per echo; per open+close)"
	printf '%-42s | %9s %9s %11s | %9s %9s %11s\n' test 'cifsd /s' 'samba /s' cifsd/samba 'cifsd ms' 'samba ms' samba/cifsd
	for name in echo path-contention-shared; do
		read -r c cc <<<"${trate[cifsd.$name]:-}" || true
		read -r m mc <<<"${trate[samba.$name]:-}" || true
		[ "${cc:-}" != - ] || cc=''
		[ "${mc:-}" != - ] || mc=''
		unit=echo/s
		[ "$name" = echo ] || unit=open/s
		printf '%-42s | %9s %9s %11s | %9s %9s %11s\n' "smb2.bench.$name ($unit)" "${c:--}" "${m:--}" "$(ratio "$c" "$m")" \
			"${cc:--}" "${mc:--}" "$(ratio "$mc" "$cc")"
	done
	echo
fi

stop_cifsd
stop_samba

# ---------------------------------------------------------------- slow
if has_part slow; then
	log "bench-meta: slow backend, $SLOW_DELAY per call, $SLOW_CONNS clients"
	timeout 900 "$work/smbbench" -slow "$SLOW_DELAY" -conns "$SLOW_CONNS" -files 0 -client "$CLIENT" \
		-time "$SLOW_TIME" -ops create,stat,rename,delete >"$work/slow.tsv" || die "smbbench -slow failed"
	first=${SLOW_CONNS%%,*} last=${SLOW_CONNS##*,}
	echo "bench-meta: slow backend, in-process cifsd, in-memory share + $SLOW_DELAY per backend call, ${SLOW_TIME} per phase, ops/s, client $CLIENT"
	printf '%-8s %12s %12s %12s %16s\n' op "$first conn" "$last conns" "$last/$first" "backend calls/op"
	for op in create stat rename delete; do
		a=$(awk -v op="$op" -v n="$first" '$2 == n && $3 == op { print $4 }' "$work/slow.tsv")
		b=$(awk -v op="$op" -v n="$last" '$2 == n && $3 == op { print $4 }' "$work/slow.tsv")
		k=$(awk -v op="$op" -v n="$first" '$2 == n && $3 == op { print $7 }' "$work/slow.tsv")
		printf '%-8s %12s %12s %12s %16s\n' "$op" "${a:--}" "${b:--}" "$(ratio "$b" "$a")" "${k:--}"
	done
	echo "(the $last/$first target is >= 20; one connection's ceiling is 1/(calls x $SLOW_DELAY))"
	echo
fi
