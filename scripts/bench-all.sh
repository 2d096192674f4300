#!/usr/bin/env bash
# `make bench`: every benchmark row, cifsd against Samba's smbd in the same
# run. First the metadata, smbtorture smb2.bench and slow-backend rows
# (scripts/bench-meta.sh), then the 1 GiB throughput/CPU rows
# (scripts/bench.sh) in each protection mode: plain (no signing: both
# servers' signing policy "enabled", smbclient --client-protection=off),
# sign (signing required) and encrypt; last, sequential WRITE server CPU
# per GiB for each mode side by side.
#   BENCH_IO_MODES ("plain sign encrypt")  the modes of the throughput rows
#   BENCH_SKIP_META=1 / BENCH_SKIP_IO=1    leave a half out
# Every variable of bench.sh and bench-meta.sh applies (BENCH_ONLY, ...).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

if [ "${BENCH_SKIP_META:-0}" != 1 ]; then
	"$LIB_DIR/bench-meta.sh"
fi
[ "${BENCH_SKIP_IO:-0}" != 1 ] || exit 0

summary=$(mktemp /tmp/cifsd-bench-summary.XXXXXX)
trap 'rm -f "$summary"' EXIT
for mode in ${BENCH_IO_MODES:-plain sign encrypt}; do
	echo
	echo "== throughput, protection mode $mode"
	case $mode in
	plain) BENCH_SIGNING=enabled BENCH_CLIENT_OPTS=--client-protection=off BENCH_MODE=plain BENCH_SUMMARY=$summary "$LIB_DIR/bench.sh" ;;
	sign) BENCH_SIGNING=required BENCH_CLIENT_OPTS=--client-protection=sign BENCH_MODE=sign BENCH_SUMMARY=$summary "$LIB_DIR/bench.sh" ;;
	encrypt) BENCH_SIGNING=required BENCH_CLIENT_OPTS=--client-protection=encrypt BENCH_MODE=encrypt BENCH_SUMMARY=$summary "$LIB_DIR/bench.sh" ;;
	*) die "unknown protection mode $mode (plain, sign or encrypt)" ;;
	esac
done
echo
echo "== sequential WRITE, server CPU s/GiB per protection mode (target: cifsd/samba <= 0.5)"
echo "   floor: the kernel alone storing the file in the shares' tmpfs (no server); floor/samba is"
echo "   the lowest cifsd/samba any server that stores the bytes could reach on this machine"
printf '%-10s %10s %10s %12s %10s %12s\n' mode cifsd samba cifsd/samba floor floor/samba
awk '{ r = ($3 > 0 && $2 != "nan") ? sprintf("%.2f", $2 / $3) : "n/a"
	fr = ($3 > 0 && $3 != "nan") ? sprintf("%.2f", $4 / $3) : "n/a"
	printf "%-10s %10s %10s %12s %10s %12s\n", $1, $2, $3, r, $4, fr }' "$summary"
