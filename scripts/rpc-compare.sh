#!/usr/bin/env bash
# rpc-compare.sh [OUT_DIR]: run smbtorture's RPC suites against cifsd and
# against Samba's smbd (standalone), in the same run, with the same
# non-administrator user, and print the number of tests each passes per
# suite (cifsd admits null sessions and signs when asked, as Samba does by
# default). OUT_DIR (default a temp dir) gets each server's raw output and
# cifsd-pass.txt, the tests cifsd passes in the format of
# test/smbtorture/pass-rpc.txt. Needs root (for Samba). Not part of
# `make test`: it takes several minutes.
#   RPC_SUITES  the suites (default below)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

out=${1:-$(mktemp -d /tmp/rpc-compare.XXXXXX)}
mkdir -p "$out"
read -r -a suites <<<"${RPC_SUITES:-rpc.srvsvc rpc.wkssvc rpc.lsa.lookupsids rpc.lsa.lookupnames rpc.lsalookup rpc.lsa-getuser rpc.lsa rpc.samr.accessmask rpc.samr.handletype rpc.samr.users rpc.winreg rpc.dfs}"
trap 'stop_cifsd; stop_samba' EXIT
trap 'exit 130' INT TERM

# run_suites NAME PORT: every suite against 127.0.0.1:PORT.
run_suites() {
	local name=$1 port=$2 s
	for s in "${suites[@]}"; do
		timeout 600 smbtorture "//127.0.0.1/$SMB_SHARE" -p "$port" -U "$SMB_USER%$SMB_PASS" "$s" \
			>"$out/$name.$s.out" 2>&1 || true
	done
}

CIFSD_FLAGS="${CIFSD_FLAGS:-} -anonymous -signing enabled" start_cifsd ""
run_suites cifsd "$CIFSD_PORT"
stop_cifsd
start_samba ""
# samba-dcerpcd serves the pipes a few seconds after smbd listens.
for ((i = 0; i < 300; i++)); do
	timeout 10 rpcclient -p "$SAMBA_PORT" 127.0.0.1 -U "$SMB_USER%$SMB_PASS" -c srvinfo >/dev/null 2>&1 && break
	sleep 0.1
done
run_suites samba "$SAMBA_PORT"
stop_samba

printf '%-24s %6s %6s\n' suite cifsd samba
: >"$out/cifsd-pass.txt"
for s in "${suites[@]}"; do
	c=$(grep -c '^success: ' "$out/cifsd.$s.out" || true)
	m=$(grep -c '^success: ' "$out/samba.$s.out" || true)
	printf '%-24s %6s %6s\n' "$s" "$c" "$m"
	sed -n "s/^success: /$s: /p" "$out/cifsd.$s.out" >>"$out/cifsd-pass.txt"
done
echo "outputs in $out"
