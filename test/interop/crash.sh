#!/usr/bin/env bash
# crash.sh: data a client was told is written survives kill -9 of cifsd on
# the OS-directory backend. Starts its own cifsd on a share directory of its
# own, then:
#   - smbclient puts files (closed normally);
#   - impacket writes a file and FLUSHes it, and writes another through a
#     FILE_WRITE_THROUGH open, and keeps both handles open;
#   - smbclient starts a large put that the kill interrupts;
# kills the daemon with SIGKILL, restarts it on the same directory, and
# compares every byte (through smbclient and on disk). A kill loses only
# what the server buffers itself (the kernel keeps the rest), so this
# checks the server keeps no write buffer; that FLUSH and write-through
# reach stable storage (fsync) is checked by smb's
# TestWriteThroughAndFlushCommit.
# Prints ok:/FAIL: per check and "N passed, M failed".
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"

# A server of our own: forget the caller's.
unset CIFSD_PID CIFSD_DIR CIFSD_SHARE_DIR
CIFSD_PORT=''
work=$(mktemp -d /tmp/crash-interop.XXXXXX)
share="$work/share"
mkdir -p "$share"
py_pid=''
big_pid=''
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	if [ -n "$py_pid" ]; then kill "$py_pid" 2>/dev/null || true; fi
	if [ -n "$big_pid" ]; then kill "$big_pid" 2>/dev/null || true; fi
	stop_cifsd
	[ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

pass=0 failed=0
ok() { echo "ok: $*"; pass=$((pass + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
finish() {
	echo "$pass passed, $failed failed"
	[ "$failed" -eq 0 ] && exit 0
	exit 1
}

smbc() {
	timeout 120 smbclient "//$SMB_HOST/$SMB_SHARE" -p "$CIFSD_PORT" -U "$SMB_USER%$SMB_PASS" "$@"
}

start_cifsd "$share" || { fail "cifsd did not start"; finish; }

# Files closed normally.
for n in 1 2 3; do
	head -c $((n * 700 * 1024 + 13)) /dev/urandom >"$work/closed$n"
done
if smbc -c "put $work/closed1 closed1; put $work/closed2 closed2; mkdir d; put $work/closed3 d\\closed3" >"$work/put.out" 2>&1 &&
	! grep -q NT_STATUS_ "$work/put.out"; then
	ok "smbclient put three files"
else
	fail "smbclient put: $(grep -m1 NT_STATUS_ "$work/put.out" || tail -n1 "$work/put.out")"
fi

# Flushed and written-through data, handles still open at the kill.
head -c $((512 * 1024)) /dev/urandom >"$work/flushed"
head -c $((300 * 1024 + 7)) /dev/urandom >"$work/through"
cat >"$work/hold.py" <<'EOF'
import sys, time
from impacket.smbconnection import SMBConnection
from impacket import smb3structs as s3
host, port, share, user, pw, flushed, through = sys.argv[1:8]
c = SMBConnection(host, host, sess_port=int(port), preferredDialect=s3.SMB2_DIALECT_30)
c.login(user, pw)
tid = c.connectTree(share)
smb = c.getSMBServer()
def put(name, path, options):
    fid = smb.create(tid, name, s3.FILE_READ_DATA | s3.FILE_WRITE_DATA, s3.FILE_SHARE_READ,
                     options, s3.FILE_OVERWRITE_IF, 0)
    data = open(path, 'rb').read()
    off = 0
    while off < len(data):
        chunk = data[off:off + 65536]
        n = smb.write(tid, fid, chunk, off, len(chunk))
        off += n
    return fid
f1 = put('flushed', flushed, s3.FILE_NON_DIRECTORY_FILE)
smb.flush(tid, f1)
f2 = put('through', through, s3.FILE_NON_DIRECTORY_FILE | s3.FILE_WRITE_THROUGH)
print('written', flush=True)
time.sleep(120)  # hold both handles until the server is killed
EOF
timeout 150 "$SYS_PYTHON" "$work/hold.py" "$SMB_HOST" "$CIFSD_PORT" "$SMB_SHARE" "$SMB_USER" "$SMB_PASS" \
	"$work/flushed" "$work/through" >"$work/hold.out" 2>&1 &
py_pid=$!
for ((i = 0; i < 300; i++)); do
	grep -q written "$work/hold.out" 2>/dev/null && break
	kill -0 "$py_pid" 2>/dev/null || break
	sleep 0.1
done
if grep -q written "$work/hold.out"; then
	ok "impacket wrote and flushed one file, wrote another through, handles open"
else
	fail "impacket: $(tail -n3 "$work/hold.out")"
fi

# A large put the kill interrupts.
head -c $((64 * 1024 * 1024)) /dev/urandom >"$work/big"
smbc -c "put $work/big big" >/dev/null 2>&1 &
big_pid=$!
sleep 0.5

kill -KILL "$CIFSD_PID"
wait "$CIFSD_PID" 2>/dev/null || true
ok "cifsd killed with SIGKILL (pid $CIFSD_PID)"
wait "$big_pid" 2>/dev/null || true
big_pid=''
kill "$py_pid" 2>/dev/null || true
wait "$py_pid" 2>/dev/null || true
py_pid=''
CIFSD_PID=''
rm -rf "$CIFSD_DIR"

# Same directory, new daemon.
start_cifsd "$share" || { fail "cifsd did not restart on the same directory"; finish; }
ok "cifsd restarted on the same directory"

same() { # NAME LOCAL REMOTE-PATH: the bytes on disk and through smbclient
	local name=$1 want=$2 remote=$3
	if ! cmp -s "$want" "$share/${remote//\\//}"; then
		fail "$name: the file on disk differs ($(stat -c %s "$share/${remote//\\//}" 2>/dev/null || echo missing) bytes, want $(stat -c %s "$want"))"
		return
	fi
	rm -f "$work/got"
	if smbc -c "get $remote $work/got" >"$work/get.out" 2>&1 && cmp -s "$want" "$work/got"; then
		ok "$name: every byte back after kill -9"
	else
		fail "$name: smbclient get differs: $(grep -m1 NT_STATUS_ "$work/get.out" || true)"
	fi
}
same "closed file 1" "$work/closed1" closed1
same "closed file 2" "$work/closed2" closed2
same "closed file in a directory" "$work/closed3" 'd\closed3'
same "flushed file, handle open at the kill" "$work/flushed" flushed
same "written-through file, handle open at the kill" "$work/through" through

# The share works after the kill: a new file round trip.
head -c 100000 /dev/urandom >"$work/after"
if smbc -c "put $work/after after; get after $work/after.got" >/dev/null 2>&1 && cmp -s "$work/after" "$work/after.got"; then
	ok "put and get after the restart"
else
	fail "put and get after the restart"
fi
finish
