#!/usr/bin/python3
"""cifsd's connection limits, from outside (run with /usr/bin/python3).

Against cifsd started with -max-ip-connections 2 -handshake-timeout 2s:
two silent connections from 127.0.0.2 are held open; a third from that
address is closed by the server at once; a real client (impacket) from
127.0.0.1 logs on and reads the share meanwhile; the silent ones are closed
by the handshake timeout. Target: SMB_HOST SMB_PORT SMB_SHARE SMB_USER
SMB_PASS. Prints ok:/FAIL: per check and "N passed, M failed".
"""

import os
import socket
import sys

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]

from impacket.smbconnection import SMBConnection  # noqa: E402

HOST = os.environ.get("SMB_HOST", "127.0.0.1")
PORT = int(os.environ.get("SMB_PORT", "445"))
SHARE = os.environ.get("SMB_SHARE", "share")
USER = os.environ.get("SMB_USER", "tester")
PASS = os.environ.get("SMB_PASS", "testpass")

passed = failed = 0


def check(cond, msg):
    global passed, failed
    if cond:
        passed += 1
        print("ok: " + msg, flush=True)
    else:
        failed += 1
        print("FAIL: " + msg, flush=True)


def silent():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.2", 0))
    s.connect((HOST, PORT))
    return s


def closed_by_server(s):
    """True when the server closes s (EOF or reset) within a minute."""
    s.settimeout(60)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


held = [silent(), silent()]
over = silent()
check(closed_by_server(over), "a third connection from one address is closed (-max-ip-connections 2)")
try:
    c = SMBConnection(HOST, HOST, sess_port=PORT, timeout=30)
    c.login(USER, PASS)
    c.listPath(SHARE, "*")
    c.logoff()
    err = None
except Exception as e:  # noqa: BLE001
    err = e
check(err is None, "a client from another address is served meanwhile (%s)" % (err or "ok"))
for i, s in enumerate(held):
    check(closed_by_server(s), "silent connection %d closed by the handshake timeout" % i)
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
