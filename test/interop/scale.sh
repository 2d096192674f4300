#!/usr/bin/env bash
# scale.sh: SCALE_CONNS (default 10000) authenticated, tree-connected, idle
# connections to one cifsd daemon; client and server in separate processes,
# so each fits its file limit. Starts its own cifsd (connection limits
# lifted, -pprof and -metrics on loopback), runs `cifsd-soak -idle`, which
# sets the connections up (NEGOTIATE, SESSION_SETUP with NTLM,
# TREE_CONNECT), holds them SCALE_HOLD, measures the daemon's memory
# (resident set, Go heap and stacks after a collection) and checks every
# connection still answers an ECHO. `make scale` runs it at 10,000; `make
# test` (scripts/interop.sh) at 300.
#   SCALE_SOURCE_IPS  loopback source addresses to spread over (default one
#                     per 5,000 connections, so ephemeral ports never run out)
#   SCALE_PROFILE=F   save the daemon's heap profile (inuse_space) with the
#                     connections held to F (go tool pprof F)
#   SCALE_GOFLAGS     extra go build flags
#   SCALE_DAEMON_GODEBUG  GODEBUG for the daemon (memprofilerate=1 for an
#                     exact heap profile)
# Prints the report and "N passed, M failed".
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"

conns=${SCALE_CONNS:-10000}
hold=${SCALE_HOLD:-5s}
ips=${SCALE_SOURCE_IPS:-$(((conns + 4999) / 5000))}

# A server of our own: forget the caller's.
unset CIFSD_PID CIFSD_DIR CIFSD_SHARE_DIR CIFSD_BIN
CIFSD_PORT=''
work=$(mktemp -d /tmp/scale.XXXXXX)
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	stop_cifsd
	rm -rf "$work"
}
trap cleanup EXIT

# Each side holds one descriptor per connection (and a few more): raise the
# soft limit as far as the hard one allows.
need=$((conns + 256))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$need" ]; then
	echo "FAIL: $conns connections need $need file descriptors; the hard limit is $hard (ulimit -Hn)"
	echo "0 passed, 1 failed"
	exit 1
fi
ulimit -n "$need" 2>/dev/null || ulimit -n "$hard"

log "scale: building cmd/cifsd and cmd/cifsd-soak"
# shellcheck disable=SC2086 # SCALE_GOFLAGS is a list of flags
(cd "$REPO_ROOT" && timeout 600 go build ${SCALE_GOFLAGS:-} -o "$work/cifsd" ./cmd/cifsd &&
	timeout 600 go build ${SCALE_GOFLAGS:-} -o "$work/cifsd-soak" ./cmd/cifsd-soak)
export CIFSD_BIN=$work/cifsd
pprof_port=$(free_port)
metrics_port=$(free_port)
CIFSD_FLAGS="${CIFSD_FLAGS:-} -max-connections -1 -max-ip-connections -1 \
	-pprof 127.0.0.1:$pprof_port -metrics 127.0.0.1:$metrics_port" GODEBUG=${SCALE_DAEMON_GODEBUG:-} start_cifsd ""

rc=0
"$work/cifsd-soak" -v -idle "$conns" -source-ips "$ips" -hold "$hold" \
	-addr "127.0.0.1:$CIFSD_PORT" -share "$SMB_SHARE" -user "$SMB_USER" -password "$SMB_PASS" \
	-pid "$CIFSD_PID" -daemon-pprof "127.0.0.1:$pprof_port" -daemon-metrics "127.0.0.1:$metrics_port" \
	${SCALE_PROFILE:+-daemon-heap-profile "$SCALE_PROFILE"} || rc=$?

if ! kill -0 "$CIFSD_PID" 2>/dev/null; then
	echo "FAIL: cifsd exited during the run"
	tail -n 30 "$CIFSD_DIR/cifsd.log" || true
	rc=1
fi
if [ "$rc" -eq 0 ]; then
	echo "ok: $conns idle connections held and answered"
	echo "1 passed, 0 failed"
else
	echo "FAIL: scale run at $conns connections"
	grep -m 5 -i 'level=error' "$CIFSD_DIR/cifsd.log" || true
	echo "0 passed, 1 failed"
	exit 1
fi
