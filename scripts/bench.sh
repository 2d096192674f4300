#!/usr/bin/env bash
# Throughput benchmark, cifsd against Samba's smbd on loopback (`make bench`).
# A BENCH_MB (1024) MiB file is written (smbclient put) and read back (get to
# /dev/null) with smbclient -m SMB3_11 and default signing; both servers serve
# a /dev/shm directory, so this measures protocol cost, not the disk. Runs are
# interleaved (cifsd, samba, cifsd, samba, ...), BENCH_RUNS (3) each; the
# table gives medians: MB/s (10^6 bytes/s, wall time of the whole smbclient
# call) and server CPU seconds per GiB from /proc/PID/stat (utime+stime, plus
# cutime+cstime and live children: smbd forks a child per connection).
# A third operation copies the file on the server (smbclient scopy:
# FSCTL_SRV_COPYCHUNK_WRITE), reported as MB/s and the bytes that crossed
# loopback meanwhile (from /proc/net/dev): the data must not.
# Each run also times the kernel alone writing a file of the same size into
# the shares' tmpfs (dd from /dev/zero): the floor under any server's WRITE.
#   BENCH_ONLY=samba|cifsd    one server only (cifsd is skipped, with a note,
#                             while ./cmd/cifsd has no main package)
#   BENCH_SIGNING=required|enabled (required)  both servers' signing policy:
#                             cifsd -signing X, Samba "server signing =
#                             mandatory|auto" (cifsd's default is required,
#                             standalone Samba's is not: compare like with like)
#   BENCH_CLIENT_OPTS="--client-protection=encrypt"   extra smbclient flags
#   BENCH_TIMEOUT (300)       seconds allowed for one transfer
#   BENCH_WARMUP=0            no unmeasured warm-up transfer first
#   BENCH_MODE=NAME           the protection mode's name in the summary line
#                             (default: plain, sign or encrypt, from the
#                             client's --client-protection and BENCH_SIGNING)
#   BENCH_SUMMARY=FILE        append "MODE cifsd samba" write CPU s/GiB there
#                             (scripts/bench-all.sh prints them per mode)
# Needs root (smbd) and the peers (scripts/install-peers.sh).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

MB=${BENCH_MB:-1024}
RUNS=${BENCH_RUNS:-3}
T=${BENCH_TIMEOUT:-300}
read -r -a CLIENT_OPTS <<<"${BENCH_CLIENT_OPTS:-}"
HZ=$(getconf CLK_TCK)
BYTES=$((MB * 1024 * 1024))

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

work=$(mktemp -d /dev/shm/cifsd-bench.XXXXXX)
chmod 755 "$work" # Samba serves its share as the unprivileged test user
cleanup() {
	stop_cifsd
	stop_samba
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

avail=()
for s in "${servers[@]}"; do
	case $s in
	cifsd)
		if ! cifsd_available; then
			echo "bench: cifsd skipped: ./cmd/cifsd has no main package yet"
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
[ ${#avail[@]} -gt 0 ] || die "no server to benchmark"

log "bench: writing a $MB MiB source file in $work"
timeout 300 head -c "$BYTES" /dev/urandom >"$work/src"

# cpu_ticks PID: utime+stime+cutime+cstime of PID and of its live descendants.
cpu_ticks() {
	local total=0 p rest
	local -a f
	for p in "$1" $(descendants "$1"); do
		rest=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		read -r -a f <<<"${rest##*) }" # fields from 3 (state) on; comm may hold spaces
		total=$((total + f[11] + f[12] + f[13] + f[14]))
	done
	echo "$total"
}

# settle PID: wait (up to 3 s) until PID has no more children than it had at start.
settle() {
	local pid=$1 want=$2 i
	for ((i = 0; i < 30; i++)); do
		[ "$(descendants "$pid" | wc -l)" -le "$want" ] && return 0
		sleep 0.1
	done
}

declare -A base_kids=()
for s in "${avail[@]}"; do
	if [ "$s" = cifsd ]; then pid=$CIFSD_PID; else pid=$SAMBA_PID; fi
	base_kids[$s]=$(descendants "$pid" | wc -l)
done

# transfer SERVER put|get: prints "MB/s cpu-seconds-per-GiB".
transfer() {
	local srv=$1 op=$2 port pid cmd c0 c1 t0 t1 rc=0
	if [ "$srv" = cifsd ]; then port=$CIFSD_PORT pid=$CIFSD_PID; else port=$SAMBA_PORT pid=$SAMBA_PID; fi
	case $op in
	put) cmd="put $work/src bench.bin" ;;
	get) cmd="get bench.bin /dev/null" ;;
	copy) cmd="scopy bench.bin copy.bin" ;;
	esac
	local lo0 lo1
	lo0=$(lo_bytes)
	settle "$pid" "${base_kids[$srv]}"
	c0=$(cpu_ticks "$pid")
	t0=$(date +%s%N)
	timeout "$T" smbclient "//127.0.0.1/$SMB_SHARE" -p "$port" -U "$SMB_USER%$SMB_PASS" \
		-m SMB3_11 ${CLIENT_OPTS[@]+"${CLIENT_OPTS[@]}"} -c "$cmd" >"$work/out" 2>&1 || rc=$?
	t1=$(date +%s%N)
	lo1=$(lo_bytes)
	rm -f "$work/$srv/copy.bin"
	settle "$pid" "${base_kids[$srv]}"
	c1=$(cpu_ticks "$pid")
	if [ "$rc" -ne 0 ] || grep -q NT_STATUS_ "$work/out"; then
		log "bench: $srv $op failed (exit $rc): $(tr -s '\n' ' ' <"$work/out" | head -c 300)"
		return 1
	fi
	awk -v b="$BYTES" -v ns=$((t1 - t0)) -v ticks=$((c1 - c0)) -v hz="$HZ" -v wire=$((lo1 - lo0)) \
		'BEGIN { printf "%.1f %.3f %d\n", b / (ns / 1e9) / 1e6, ticks / hz / (b / 1073741824), wire }'
}

# floor: the CPU seconds per GiB the kernel alone takes to store the file in
# a fresh file of the shares' tmpfs (dd from /dev/zero, 1 MiB writes, no
# server, no network): what any server's WRITE costs at least, whatever
# its protocol work. On a virtual machine it is much of both servers' cost
# and varies from run to run with the host's memory.
floor() {
	local t
	rm -f "$work/floor.bin"
	t=$( { TIMEFORMAT='%3U %3S'; time dd if=/dev/zero of="$work/floor.bin" bs=1M count="$MB" 2>/dev/null; } 2>&1)
	rm -f "$work/floor.bin"
	awk -v t="$t" -v b="$BYTES" 'BEGIN { split(t, f, " "); printf "%.3f\n", (f[1] + f[2]) / (b / 1073741824) }'
}

# lo_bytes: bytes received on loopback so far (both directions pass there).
lo_bytes() { awk '$1 == "lo:" { print $2 }' /proc/net/dev; }

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# one unmeasured put+get per server first: the first transfer of a fresh
# server and tmpfs is much slower than the rest
if [ "${BENCH_WARMUP:-1}" = 1 ]; then
	for s in "${avail[@]}"; do
		transfer "$s" put >/dev/null || die "warm-up put failed"
		transfer "$s" get >/dev/null || die "warm-up get failed"
	done
	rm -f "$work/cifsd/bench.bin" "$work/samba/bench.bin"
fi

for ((run = 1; run <= RUNS; run++)); do
	fl=$(floor)
	echo "$fl" >>"$work/floor.cpu"
	log "bench: run $run kernel floor (dd into the share's tmpfs): $fl s/GiB"
	for s in "${avail[@]}"; do
		for op in put get copy; do
			r=$(transfer "$s" "$op") || die "transfer failed"
			read -r mbps cpu wire <<<"$r"
			echo "$mbps" >>"$work/$s.$op.mbps"
			echo "$cpu" >>"$work/$s.$op.cpu"
			echo "$wire" >>"$work/$s.$op.wire"
			log "bench: run $run $s $op: $mbps MB/s, server CPU $cpu s/GiB, $wire bytes on loopback"
		done
	done
	rm -f "$work/cifsd/bench.bin" "$work/samba/bench.bin"
done

declare -A med=()
med[floor]=$(median <"$work/floor.cpu")
for s in "${avail[@]}"; do
	for op in put get copy; do
		med[$s.$op.mbps]=$(median <"$work/$s.$op.mbps")
		med[$s.$op.cpu]=$(median <"$work/$s.$op.cpu")
		med[$s.$op.wire]=$(median <"$work/$s.$op.wire")
	done
done

echo "bench: $MB MiB file, smbclient -m SMB3_11${CLIENT_OPTS[*]:+ ${CLIENT_OPTS[*]}}, server signing $SIGNING, loopback, /dev/shm shares, median of $RUNS interleaved runs"
printf '%-12s %12s %12s %16s %16s\n' server 'write MB/s' 'read MB/s' 'write CPU s/GiB' 'read CPU s/GiB'
for s in "${avail[@]}"; do
	printf '%-12s %12.1f %12.1f %16.3f %16.3f\n' "$s" "${med[$s.put.mbps]}" "${med[$s.get.mbps]}" "${med[$s.put.cpu]}" "${med[$s.get.cpu]}"
done
if [ ${#avail[@]} -eq 2 ]; then
	ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
	printf '%-12s %12s %12s %16s %16s\n' cifsd/samba \
		"$(ratio "${med[cifsd.put.mbps]}" "${med[samba.put.mbps]}")" \
		"$(ratio "${med[cifsd.get.mbps]}" "${med[samba.get.mbps]}")" \
		"$(ratio "${med[cifsd.put.cpu]}" "${med[samba.put.cpu]}")" \
		"$(ratio "${med[cifsd.get.cpu]}" "${med[samba.get.cpu]}")"
	echo "(ratio > 1 is better for cifsd in the MB/s columns, < 1 is better in the CPU columns)"
fi
echo "kernel floor of a write: ${med[floor]} s/GiB (dd of the same size into the shares' tmpfs, no server)"
echo
echo "server-side copy (smbclient scopy) of the same file:"
printf '%-12s %12s %20s\n' server 'copy MB/s' 'loopback bytes'
for s in "${avail[@]}"; do
	printf '%-12s %12.1f %20.0f\n' "$s" "${med[$s.copy.mbps]}" "${med[$s.copy.wire]}"
done
if [ ${#avail[@]} -eq 2 ]; then
	printf '%-12s %12s\n' cifsd/samba "$(ratio "${med[cifsd.copy.mbps]}" "${med[samba.copy.mbps]}")"
fi

if [ -n "${BENCH_SUMMARY:-}" ]; then
	mode=${BENCH_MODE:-}
	if [ -z "$mode" ]; then
		case "${CLIENT_OPTS[*]:-}" in
		*encrypt*) mode=encrypt ;;
		*plain* | *=off*) mode=plain ;;
		*) if [ "$SIGNING" = required ]; then mode=sign; else mode=default; fi ;;
		esac
	fi
	echo "$mode ${med[cifsd.put.cpu]:-nan} ${med[samba.put.cpu]:-nan} ${med[floor]}" >>"$BENCH_SUMMARY"
fi
