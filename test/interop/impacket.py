#!/usr/bin/python3
"""Interop with impacket (Debian's python3-impacket; run with /usr/bin/python3).

Target from the environment: SMB_HOST SMB_PORT SMB_SHARE SMB_USER SMB_PASS.
For each SMB2 dialect impacket speaks (2.0.2, 2.1, 3.0): login, listShares
(share present), createDirectory, putFile, listPath, rename, getFile (bytes
compared), deleteFile, deleteDirectory; then a wrong password is refused.
Prints ok:/FAIL: per check and "N passed, M failed"; exits 1 on a failure.
"""

import io
import os
import socket
import sys

# This file is named impacket.py: keep its own directory off the import path so
# that "impacket" below is the library, not this script.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]

from impacket.smb3structs import SMB2_DIALECT_002, SMB2_DIALECT_21, SMB2_DIALECT_30  # noqa: E402
from impacket.smbconnection import SMBConnection, SessionError  # noqa: E402

HOST = os.environ.get("SMB_HOST", "127.0.0.1")
PORT = int(os.environ.get("SMB_PORT", "445"))
SHARE = os.environ.get("SMB_SHARE", "share")
USER = os.environ.get("SMB_USER", "tester")
PASS = os.environ.get("SMB_PASS", "testpass")
TIMEOUT = int(os.environ.get("IMPACKET_TIMEOUT", "60"))

passed = 0
failed = 0


def ok(msg):
    global passed
    passed += 1
    print("ok: " + msg, flush=True)


def fail(msg):
    global failed
    failed += 1
    print("FAIL: " + msg, flush=True)


def check(name, fn):
    """Run fn(); ok if it returns truthy without raising. Returns the value or None."""
    try:
        v = fn()
    except Exception as e:  # noqa: BLE001 - any error is a failed check
        fail("%s: %s: %s" % (name, type(e).__name__, e))
        return None
    if v is False:
        fail(name)
        return None
    ok(name)
    return v


def connect(dialect):
    return SMBConnection(HOST, HOST, sess_port=PORT, preferredDialect=dialect, timeout=TIMEOUT)


def roundtrip(label, dialect):
    conn = check("%s connect" % label, lambda: connect(dialect))
    if conn is None:
        return
    try:
        if check("%s login %s" % (label, USER), lambda: conn.login(USER, PASS) or True) is None:
            return
        check("%s dialect negotiated" % label, lambda: conn.getDialect() == dialect)

        def shares():
            names = [s["shi1_netname"][:-1] for s in conn.listShares()]
            if SHARE not in names:
                raise AssertionError("%r not in %r" % (SHARE, names))
            return True

        check("%s listShares has %s" % (label, SHARE), shares)

        d = "imptest_%s_%d" % (label, os.getpid())
        big = os.urandom(3 * 1024 * 1024 + 123)
        small = b"hello from impacket\n"
        if check("%s createDirectory" % label, lambda: conn.createDirectory(SHARE, d) or True) is None:
            return
        check("%s putFile 3 MiB" % label, lambda: conn.putFile(SHARE, d + "\\big.bin", io.BytesIO(big).read) or True)
        check("%s putFile small" % label, lambda: conn.putFile(SHARE, d + "\\small.txt", io.BytesIO(small).read) or True)

        def listing():
            got = {f.get_longname(): f.get_filesize() for f in conn.listPath(SHARE, d + "\\*")}
            want = {"big.bin": len(big), "small.txt": len(small)}
            for k, v in want.items():
                if got.get(k) != v:
                    raise AssertionError("listPath: want %s=%d, got %r" % (k, v, got))
            return True

        check("%s listPath names and sizes" % label, listing)
        check("%s rename" % label, lambda: conn.rename(SHARE, d + "\\big.bin", d + "\\renamed.bin") or True)

        def get(path, want):
            buf = io.BytesIO()
            conn.getFile(SHARE, path, buf.write)
            if buf.getvalue() != want:
                raise AssertionError("read %d bytes, differ from the %d written" % (len(buf.getvalue()), len(want)))
            return True

        check("%s getFile 3 MiB bytes equal" % label, lambda: get(d + "\\renamed.bin", big))
        check("%s getFile small bytes equal" % label, lambda: get(d + "\\small.txt", small))
        check("%s deleteFile" % label, lambda: conn.deleteFile(SHARE, d + "\\renamed.bin") or True)
        check("%s deleteFile small" % label, lambda: conn.deleteFile(SHARE, d + "\\small.txt") or True)
        check("%s deleteDirectory" % label, lambda: conn.deleteDirectory(SHARE, d) or True)
    finally:
        try:
            conn.logoff()
        except Exception:  # noqa: BLE001
            pass
        conn.close()


def wrong_password():
    try:
        conn = connect(SMB2_DIALECT_30)
    except Exception as e:  # noqa: BLE001
        fail("wrong password: connect: %s" % e)
        return
    try:
        conn.login(USER, "wrong-" + PASS)
    except SessionError as e:
        if "STATUS_LOGON_FAILURE" in str(e):
            ok("wrong password refused with STATUS_LOGON_FAILURE")
        else:
            fail("wrong password refused with %s, want STATUS_LOGON_FAILURE" % e)
    except Exception as e:  # noqa: BLE001
        fail("wrong password: %s: %s" % (type(e).__name__, e))
    else:
        fail("wrong password accepted")
    finally:
        conn.close()


def main():
    socket.setdefaulttimeout(TIMEOUT)
    dialects = (("SMB2_02", SMB2_DIALECT_002), ("SMB2_10", SMB2_DIALECT_21), ("SMB3_00", SMB2_DIALECT_30))
    wanted = os.environ.get("IMPACKET_DIALECTS")
    if wanted:
        dialects = tuple(d for d in dialects if d[0] in wanted.split())
    for label, dialect in dialects:
        roundtrip(label, dialect)
    wrong_password()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
