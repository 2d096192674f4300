#!/usr/bin/env bash
# cifsd's configuration changed while it runs (SIGHUP, `cifsd control
# reload`) and observed (`cifsd control status`), with smbclient:
#   a share added and reloaded (SIGHUP) is reachable at once, while an
#   smbclient session opened before on another share goes on (ls, get);
#   a share made unavailable, then removed, and reloaded (`cifsd control
#   reload`) refuses new tree connects with NT_STATUS_BAD_NETWORK_NAME;
#   a password changed with `cifsd user passwd` and reloaded: the old one
#   fails at the next logon, the new one works, the session logged on
#   before goes on;
#   `cifsd control status` shows the session's user, dialect, signing and
#   encryption, and the file it holds open (smbclient's open command);
#   a malformed file on reload is an error naming the line and changes
#   nothing; a changed port is a warning and the old one is kept;
#   Samba's testparm accepts the file.
# Starts and stops its own cifsd on a free loopback port, with its control
# socket in a temp dir. CIFSD_BIN names a prebuilt binary; otherwise
# ./cmd/cifsd is built. Prints ok:/FAIL: per check and "N passed, M failed".
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"

T=${SMBCLIENT_TIMEOUT:-60}
work=$(mktemp -d /tmp/reload-interop.XXXXXX)
pid='' spid=''
cleanup() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null
	[ -n "$pid" ] && kill_wait "$pid"
	rm -rf "$work"
}
trap cleanup EXIT

if [ -n "${CIFSD_BIN:-}" ]; then
	cp "$CIFSD_BIN" "$work/cifsd"
else
	(cd "$REPO_ROOT" && timeout 600 go build -o "$work/cifsd" ./cmd/cifsd) || die "build failed"
fi
cifsd=$work/cifsd
sock=$work/run/control.sock
mkdir -p "$work"/{a,b}
echo "in a $$" >"$work/a/a.txt"
echo held >"$work/a/held.txt"
echo "in b $$" >"$work/b/b.txt"

# write_conf PORT [SHARE-B-LINES]: the configuration on 127.0.0.1:PORT,
# with a share [b] made of the given lines when there are any.
write_conf() {
	local port=$1 b=${2:-}
	cat >"$work/smb.conf" <<EOF2
[global]
	netbios name = RELOADTEST
	interfaces = 127.0.0.1
	bind interfaces only = yes
	smb ports = $port
	server signing = auto
	map to guest = never
	smb passwd file = $work/cifsdpwd.db
	cifsd:group file = $work/group
	cifsd:control socket = $sock
	max connections = 64
	max open files = 1000
	deadtime = 30
	smb2 leases = yes
	durable handles = yes

[a]
	path = $work/a
	read only = no
EOF2
	if [ -n "$b" ]; then
		printf '\n[b]\n\tpath = %s/b\n%s\n' "$work" "$b" >>"$work/smb.conf"
	fi
}
: >"$work/group"
port=$(free_port)
write_conf "$port"

for u in alice bob; do
	printf '%s\n' "${u}pw" | timeout 30 "$cifsd" user add -config "$work/smb.conf" -stdin "$u" 2>>"$work/user.log" ||
		die "cifsd user add $u: $(tail -n1 "$work/user.log")"
done

if command -v testparm >/dev/null; then
	write_conf "$port" $'\tread only = yes\n\tavailable = no'
	rc=0
	timeout 60 testparm -s "$work/smb.conf" >"$work/testparm.out" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ] && ! grep -Eiq 'unknown parameter|error' "$work/testparm.out"; then
		ok "testparm -s accepts the configuration"
	else
		fail "testparm -s (exit $rc): $(grep -Ei 'unknown|error' "$work/testparm.out" | head -n3 | tr '\n' ' ')"
	fi
	write_conf "$port"
else
	fail "testparm not installed (scripts/install-peers.sh)"
fi

# A port free when picked may be taken before cifsd binds it: retry.
started=''
for attempt in 1 2 3 4 5; do
	"$cifsd" -config "$work/smb.conf" >"$work/cifsd.log" 2>&1 &
	pid=$!
	if wait_port "$port" "$pid" 30; then
		started=yes
		break
	fi
	kill_wait "$pid"
	pid=''
	grep -q 'address already in use' "$work/cifsd.log" || break
	log "reload: port $port taken (attempt $attempt); another"
	port=$(free_port)
	write_conf "$port"
done
if [ -z "$started" ]; then
	fail "cifsd -config did not start: $(tail -n 5 "$work/cifsd.log" | tr '\n' ' ')"
	summary
	exit 1
fi
if [ "$(stat -c %a "$sock")" = 600 ]; then ok "control socket made 0600"; else fail "control socket mode $(stat -c %a "$sock")"; fi

# smbc USER PASSWORD SHARE CMD: a new smbclient; output in $work/out.
smbc() {
	local user=$1 pw=$2 share=$3 rc=0
	shift 3
	timeout "$T" smbclient "//127.0.0.1/$share" -p "$port" -U "$user%$pw" -m SMB3_11 \
		-c "$*" >"$work/out" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] && ! grep -q 'NT_STATUS_' "$work/out"
}
why() { grep -m1 -o 'NT_STATUS_[A-Z_]*' "$work/out" || tail -n1 "$work/out"; }

# The long session: smbclient on [a] reading its commands from a fifo.
# smbclient runs only the first line of what it reads at once, so say CMD
# sends the command alone, then a marker command (a failing lcd, whose
# error names the marker) until the marker is printed (bounded by $T):
# then CMD has run.
mkfifo "$work/fifo"
timeout 300 stdbuf -o0 -e0 smbclient //127.0.0.1/a -p "$port" -U alice%alicepw -m SMB3_11 \
	--client-protection=encrypt <"$work/fifo" >"$work/long.out" 2>&1 &
spid=$!
exec 3>"$work/fifo"
n=0
say() {
	n=$((n + 1))
	printf '%s\n' "$1" >&3
	local i
	for ((i = 0; i < T * 10; i++)); do
		((i % 5 == 0)) && printf 'lcd /nonexistent/MARK%d\n' "$n" >&3
		grep -q "MARK$n " "$work/long.out" && return 0
		kill -0 "$spid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# since N: the long session's output from command N on.
since() {
	if [ "$1" -le 1 ]; then cat "$work/long.out"; else sed -n "/MARK$(($1 - 1)) /,\$p" "$work/long.out"; fi
}
if say "ls" && since "$n" | grep -q ' a.txt '; then ok "session on [a] open (ls)"; else fail "long session: $(tail -n3 "$work/long.out" | tr '\n' ' ')"; fi
say "open held.txt" || true

# status: the session's user and the file held open.
if timeout 30 "$cifsd" control status -config "$work/smb.conf" >"$work/status.out" 2>&1; then
	if grep -Eq 'alice +127\.0\.0\.1:[0-9]+ +SMB3\.1\.1 +AES-[0-9A-Z-]+ +AES-' "$work/status.out" &&
		grep -Eq 'alice +a +/held\.txt' "$work/status.out"; then
		ok "control status: alice's session (SMB3.1.1, signed, encrypted) and her open /held.txt on [a]"
	else
		fail "control status: $(tr -s ' \n' ' ' <"$work/status.out" | head -c 400)"
	fi
else
	fail "control status: $(cat "$work/status.out")"
fi

# reloads LINE-COUNT: wait (bounded) until the log shows that many reloads.
reloads() {
	local i
	for ((i = 0; i < T * 10; i++)); do
		[ "$(grep -c 'configuration reloaded' "$work/cifsd.log")" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# A share added and reloaded with SIGHUP.
if smbc bob bobpw b "ls"; then fail "[b] reachable before it is configured"; fi
write_conf "$port" $'\tread only = no'
kill -HUP "$pid"
if reloads 1 && smbc bob bobpw b "ls" && grep -q ' b.txt ' "$work/out"; then
	ok "SIGHUP: the new share [b] is reachable"
else
	fail "SIGHUP: [b]: $(why)"
fi
if say "ls" && since "$n" | grep -q ' a.txt ' && say "get a.txt $work/got-a.txt" && cmp -s "$work/a/a.txt" "$work/got-a.txt"; then
	ok "the session opened before the reload goes on (ls, get on [a])"
else
	fail "old session after SIGHUP: $(tail -n3 "$work/long.out" | tr '\n' ' ')"
fi

# A share made unavailable, then removed, with `cifsd control reload`.
write_conf "$port" $'\tavailable = no'
if timeout 30 "$cifsd" control reload -config "$work/smb.conf" >"$work/reload.out" 2>&1; then
	if smbc bob bobpw b "ls"; then fail "available = no: [b] still reachable"; elif [ "$(why)" = NT_STATUS_BAD_NETWORK_NAME ]; then
		ok "available = no: [b] refused with NT_STATUS_BAD_NETWORK_NAME"
	else
		fail "available = no: [b] refused with $(why)"
	fi
else
	fail "control reload: $(cat "$work/reload.out")"
fi
write_conf "$port"
if timeout 30 "$cifsd" control reload -socket "$sock" >"$work/reload.out" 2>&1 && grep -q 'reloaded: 1 shares, 2 users' "$work/reload.out"; then
	if smbc bob bobpw b "ls"; then fail "removed: [b] still reachable"; elif [ "$(why)" = NT_STATUS_BAD_NETWORK_NAME ]; then
		ok "control reload: the removed [b] refused with NT_STATUS_BAD_NETWORK_NAME"
	else
		fail "removed [b] refused with $(why)"
	fi
else
	fail "control reload: $(cat "$work/reload.out")"
fi

# A password changed: the next logon needs the new one.
printf 'alicenew\n' | timeout 30 "$cifsd" user passwd -config "$work/smb.conf" -stdin alice 2>>"$work/user.log" ||
	fail "cifsd user passwd: $(tail -n1 "$work/user.log")"
timeout 30 "$cifsd" control reload -config "$work/smb.conf" >"$work/reload.out" 2>&1 || fail "control reload: $(cat "$work/reload.out")"
if smbc alice alicepw a "ls"; then fail "old password still admitted after reload"; else ok "old password refused after reload ($(why))"; fi
if smbc alice alicenew a "ls"; then ok "new password admitted after reload"; else fail "new password: $(why)"; fi
if say "ls" && since "$n" | grep -q ' a.txt '; then ok "the session logged on with the old password goes on"; else fail "old session after passwd: $(tail -n3 "$work/long.out" | tr '\n' ' ')"; fi

# A malformed file changes nothing; a changed port needs a restart.
write_conf "$port" $'\tread only = perhaps'
if timeout 30 "$cifsd" control reload -socket "$sock" >"$work/reload.out" 2>&1; then
	fail "malformed file reloaded"
elif grep -q 'smb.conf:[0-9]*: read only' "$work/reload.out" && grep -q 'reload failed' "$work/cifsd.log"; then
	ok "malformed file: reload refused naming the line ($(grep -o 'smb.conf:[0-9]*' "$work/reload.out" | head -n1)), logged"
else
	fail "malformed file: $(cat "$work/reload.out")"
fi
if smbc bob bobpw b "ls"; then fail "[b] served after the failed reload"; else ok "the running configuration is kept ([b] still refused)"; fi
port2=$(free_port)
write_conf "$port2" $'\tread only = no'
if timeout 30 "$cifsd" control reload -socket "$sock" >"$work/reload.out" 2>&1 && grep -q 'smb ports.*next restart' "$work/reload.out"; then
	if port_open "$port" && smbc bob bobpw b "ls"; then
		ok "changed port: warned, the old port kept, the rest applied ([b] back)"
	else
		fail "after a port change: $(why)"
	fi
else
	fail "port change: $(cat "$work/reload.out")"
fi

say "close 1" || true
say "quit" || true
exec 3>&-
wait "$spid" 2>/dev/null || true
spid=''
kill_wait "$pid"
pid=''
if [ ! -e "$sock" ]; then ok "control socket removed on exit"; else fail "control socket left on exit"; fi
summary
