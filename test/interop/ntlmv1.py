#!/usr/bin/python3
"""NTLMv1 against cifsd with impacket (run with /usr/bin/python3).

    ntlmv1.py refused    the server's default: an NTLMv1 logon fails
    ntlmv1.py admitted   cifsd -ntlmv1: it succeeds, signs, and serves the share

impacket answers the challenge with NTLMv1 (extended session security) when
asked to; a plain NTLMv2 logon is checked too, so a refusal is NTLMv1's alone.
Target from the environment: SMB_HOST SMB_PORT SMB_SHARE SMB_USER SMB_PASS.
Prints ok:/FAIL: per check and "N passed, M failed"; exits 1 on a failure.
"""

import os
import sys

# impacket.py lives next to this file: keep this directory off the import
# path so that "impacket" below is the library.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]

from impacket import ntlm  # noqa: E402
from impacket.smbconnection import SMBConnection, SessionError  # noqa: E402

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


def logon(v1):
    """Log on and connect to the share; returns None or the error."""
    orig = ntlm.getNTLMSSPType3
    if v1:
        # use_ntlmv2's default is bound when impacket is imported: pass it.
        ntlm.getNTLMSSPType3 = lambda *a, **k: orig(*a, **dict(k, use_ntlmv2=False))
    try:
        c = SMBConnection(HOST, HOST, sess_port=PORT, timeout=30)
        c.login(USER, PASS)
        c.connectTree(SHARE)
        c.logoff()
        return None
    except (SessionError, OSError) as e:
        return e
    finally:
        ntlm.getNTLMSSPType3 = orig


mode = sys.argv[1] if len(sys.argv) > 1 else ""
if mode not in ("refused", "admitted"):
    sys.exit("usage: ntlmv1.py refused|admitted")
err = logon(v1=False)
check(err is None, "NTLMv2 logon (%s)" % (err or "accepted"))
err = logon(v1=True)
if mode == "refused":
    check(err is not None and "LOGON_FAILURE" in str(err), "NTLMv1 logon refused (%s)" % (err or "accepted"))
else:
    check(err is None, "NTLMv1 logon admitted with -ntlmv1 (%s)" % (err or "accepted"))
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
