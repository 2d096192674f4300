# shellcheck shell=bash
# Shared helpers for the interop, conformance and benchmark scripts.
# Source it:   . "$(dirname "$0")/lib.sh"
#
# Target of every client script (so one script runs against cifsd or smbd):
#   SMB_HOST (127.0.0.1)  SMB_PORT (445)  SMB_SHARE (share)
#   SMB_USER (tester)     SMB_PASS (testpass)
# Servers started here export: CIFSD_PID CIFSD_PORT CIFSD_DIR CIFSD_SHARE_DIR
#                              SAMBA_PID SAMBA_PORT SAMBA_DIR SAMBA_SHARE_DIR
# Only loopback addresses are used. Every external command runs under timeout.

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$LIB_DIR/.." && pwd)
export SYS_PYTHON=/usr/bin/python3 # Debian's python: impacket is installed for it

: "${SMB_HOST:=127.0.0.1}"
: "${SMB_SHARE:=share}"
: "${SMB_USER:=tester}"
: "${SMB_PASS:=testpass}"

log() { printf '%s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# free_port [PREFERRED]: print a TCP port on 127.0.0.1 that nobody listens on.
free_port() {
	local p=${1:-}
	if [ -n "$p" ] && ! port_open "$p"; then
		echo "$p"
		return 0
	fi
	# Below the ephemeral range: a port in it may be taken, between this
	# check and the server's bind, as the local end of any outgoing
	# connection (bind then fails with EADDRINUSE).
	local i lo=32768
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
	[ "$lo" -gt 12000 ] 2>/dev/null || lo=32768
	for ((i = 0; i < 100; i++)); do
		p=$((10000 + RANDOM % (lo - 10000)))
		port_open "$p" || { echo "$p"; return 0; }
	done
	die "no free port found"
}

# port_open PORT: true when something accepts on 127.0.0.1:PORT.
port_open() {
	timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# wait_port PORT PID [SECONDS]: wait until PORT accepts; fail early if PID died.
wait_port() {
	local port=$1 pid=$2 secs=${3:-30} i
	for ((i = 0; i < secs * 10; i++)); do
		port_open "$port" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# kill_wait PID: TERM, then KILL after 5 s; only the given process.
kill_wait() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------- cifsd

# cifsd_available: true when ./cmd/cifsd holds a main package to build
# (or CIFSD_BIN names a prebuilt binary).
cifsd_available() {
	[ -n "${CIFSD_BIN:-}" ] && return 0
	compgen -G "$REPO_ROOT/cmd/cifsd/*.go" >/dev/null &&
		grep -qs '^package main' "$REPO_ROOT"/cmd/cifsd/*.go
}

# start_cifsd [SHARE_DIR]: build ./cmd/cifsd, start it on 127.0.0.1:$CIFSD_PORT
# (picked free if unset) serving SMB_SHARE=SHARE_DIR (a new temp dir if none)
# for SMB_USER:SMB_PASS. Extra daemon flags: $CIFSD_FLAGS. CIFSD_BIN names a
# prebuilt binary to run instead of building one.
start_cifsd() {
	[ -n "${CIFSD_BIN:-}" ] || cifsd_available ||
		{ log "cifsd: no main package in ./cmd/cifsd"; return 1; }
	CIFSD_DIR=$(mktemp -d /tmp/cifsd-run.XXXXXX)
	CIFSD_SHARE_DIR=${1:-$CIFSD_DIR/share}
	mkdir -p "$CIFSD_SHARE_DIR"
	if [ -n "${CIFSD_BIN:-}" ]; then
		cp "$CIFSD_BIN" "$CIFSD_DIR/cifsd"
	else
		log "cifsd: building ./cmd/cifsd"
		(cd "$REPO_ROOT" && timeout 600 go build -o "$CIFSD_DIR/cifsd" ./cmd/cifsd) ||
			{ log "cifsd: build failed"; return 1; }
	fi
	CIFSD_PORT=$(free_port "${CIFSD_PORT:-4451}")
	# shellcheck disable=SC2086 # CIFSD_FLAGS is a list of extra flags
	"$CIFSD_DIR/cifsd" -listen "127.0.0.1:$CIFSD_PORT" \
		-share "$SMB_SHARE=$CIFSD_SHARE_DIR" -user "$SMB_USER:$SMB_PASS" \
		${CIFSD_FLAGS:-} >"$CIFSD_DIR/cifsd.log" 2>&1 &
	CIFSD_PID=$!
	export CIFSD_PID CIFSD_PORT CIFSD_DIR CIFSD_SHARE_DIR
	if ! wait_port "$CIFSD_PORT" "$CIFSD_PID" 30; then
		log "cifsd: did not start listening on 127.0.0.1:$CIFSD_PORT; its log:"
		tail -n 30 "$CIFSD_DIR/cifsd.log" >&2 || true
		stop_cifsd
		return 1
	fi
	log "cifsd: pid $CIFSD_PID listening on 127.0.0.1:$CIFSD_PORT, share $SMB_SHARE=$CIFSD_SHARE_DIR"
}

# stop_cifsd: stop the daemon started by start_cifsd and remove its temp dir.
stop_cifsd() {
	if [ -n "${CIFSD_PID:-}" ]; then
		kill_wait "$CIFSD_PID"
		wait "$CIFSD_PID" 2>/dev/null || true
	fi
	if [ -n "${CIFSD_DIR:-}" ] && [ -d "$CIFSD_DIR" ]; then
		rm -rf "$CIFSD_DIR"
	fi
	CIFSD_PID='' CIFSD_DIR=''
}

# ---------------------------------------------------------------- Samba

# ensure_tester_user: a non-root Unix account for the test user (as root).
ensure_tester_user() {
	id "$SMB_USER" >/dev/null 2>&1 || timeout 30 useradd -M -s /usr/sbin/nologin "$SMB_USER"
}

# start_samba [SHARE_DIR]: Samba's smbd (and samba-dcerpcd for share listing)
# per shared/REFERENCE-PEERS.md, on 127.0.0.1:$SAMBA_PORT (picked free if
# unset), share SMB_SHARE=SHARE_DIR (a new temp dir if none). Needs root.
start_samba() {
	[ "$(id -u)" -eq 0 ] || { log "samba: must run as root"; return 1; }
	command -v smbd >/dev/null || { log "samba: smbd not installed (scripts/install-peers.sh)"; return 1; }
	ensure_tester_user
	SAMBA_DIR=$(mktemp -d /tmp/samba-run.XXXXXX)
	chmod 755 "$SAMBA_DIR" # the share below must be reachable for the test user
	SAMBA_SHARE_DIR=${1:-$SAMBA_DIR/share}
	mkdir -p "$SAMBA_SHARE_DIR"
	chown "$SMB_USER" "$SAMBA_SHARE_DIR"
	local d
	for d in private lock state cache pid ncalrpc log; do mkdir -p "$SAMBA_DIR/$d"; done
	SAMBA_PORT=$(free_port "${SAMBA_PORT:-4452}")
	cat >"$SAMBA_DIR/smb.conf" <<EOF
[global]
  server role = standalone server
  interfaces = lo
  bind interfaces only = yes
  smb ports = $SAMBA_PORT
  private dir = $SAMBA_DIR/private
  lock directory = $SAMBA_DIR/lock
  state directory = $SAMBA_DIR/state
  cache directory = $SAMBA_DIR/cache
  pid directory = $SAMBA_DIR/pid
  ncalrpc dir = $SAMBA_DIR/ncalrpc
  log file = $SAMBA_DIR/log/%m.log
  passdb backend = tdbsam:$SAMBA_DIR/private/passdb.tdb
  server multi channel support = yes
  rpc start on demand helpers = no
  disable netbios = yes
  load printers = no
  printcap name = /dev/null
  disable spoolss = yes
${SAMBA_EXTRA_GLOBAL:-}
[$SMB_SHARE]
  path = $SAMBA_SHARE_DIR
  read only = no
  vfs objects = acl_xattr streams_xattr
  ea support = yes
  store dos attributes = yes
EOF
	printf '%s\n%s\n' "$SMB_PASS" "$SMB_PASS" |
		timeout 30 smbpasswd -c "$SAMBA_DIR/smb.conf" -s -a "$SMB_USER" >/dev/null ||
		{ log "samba: smbpasswd failed"; return 1; }
	# setsid: on exit smbd and samba-dcerpcd signal their whole process group,
	# which must not be ours. (Not a group leader here, so setsid keeps the pid.)
	setsid /usr/libexec/samba/samba-dcerpcd -s "$SAMBA_DIR/smb.conf" \
		--libexec-rpcds -D -F >"$SAMBA_DIR/dcerpcd.out" 2>&1 &
	SAMBA_DCERPCD_PID=$!
	setsid smbd -s "$SAMBA_DIR/smb.conf" -D --foreground --no-process-group \
		>"$SAMBA_DIR/smbd.out" 2>&1 &
	SAMBA_PID=$!
	export SAMBA_PID SAMBA_DCERPCD_PID SAMBA_PORT SAMBA_DIR SAMBA_SHARE_DIR
	if ! wait_port "$SAMBA_PORT" "$SAMBA_PID" 30; then
		log "samba: smbd did not start on 127.0.0.1:$SAMBA_PORT"
		tail -n 30 "$SAMBA_DIR/smbd.out" "$SAMBA_DIR"/log/*.log >&2 2>/dev/null || true
		stop_samba
		return 1
	fi
	log "samba: smbd pid $SAMBA_PID listening on 127.0.0.1:$SAMBA_PORT, share $SMB_SHARE=$SAMBA_SHARE_DIR"
}

# stop_samba: stop smbd (and its children) and samba-dcerpcd, remove temp dir.
stop_samba() {
	local pid kids=()
	for pid in ${SAMBA_PID:-} ${SAMBA_DCERPCD_PID:-}; do
		# smbd and samba-dcerpcd fork helpers; collect them before the parent goes
		mapfile -t -O "${#kids[@]}" kids < <(descendants "$pid")
	done
	for pid in ${SAMBA_PID:-} ${SAMBA_DCERPCD_PID:-}; do
		kill_wait "$pid"
		wait "$pid" 2>/dev/null || true
	done
	for pid in "${kids[@]}"; do kill_wait "$pid"; done
	if [ -n "${SAMBA_DIR:-}" ] && [ -d "$SAMBA_DIR" ]; then
		rm -rf "$SAMBA_DIR"
	fi
	SAMBA_PID='' SAMBA_DCERPCD_PID='' SAMBA_DIR=''
}

# descendants PID: print every descendant process id of PID.
descendants() {
	local c kids
	[ -n "$1" ] || return 0
	kids=$(cat "/proc/$1/task/"*/children 2>/dev/null) || return 0
	for c in $kids; do
		echo "$c"
		descendants "$c"
	done
}

# ---------------------------------------------------------------- results

# A tiny ok/FAIL counter for the client scripts.
PASSED=0
FAILED=0
ok() { PASSED=$((PASSED + 1)); echo "ok: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
summary() { echo "$PASSED passed, $FAILED failed"; [ "$FAILED" -eq 0 ]; }
