#!/usr/bin/env bash
# discovery.sh CIFSD_BINARY: in a network namespace of its own (multicast on
# its loopback only), `cifsd -mdns -wsdd` is found: bind9's `host` gets the
# _smb._tcp PTR, the instance's SRV and the host's A record by mDNS, and a
# WS-Discovery Probe sent to the multicast group gets a ProbeMatches whose
# metadata names the computer. Skipped (0 passed, 0 failed) without
# unshare privileges or `host`.
set -euo pipefail
bin=${1:?cifsd binary}
if [ "${IN_NETNS:-}" != 1 ]; then
	if ! timeout 10 unshare -n true 2>/dev/null || ! command -v host >/dev/null; then
		echo "discovery: skipped (needs unshare -n and bind9's host)"
		echo "0 passed, 0 failed"
		exit 0
	fi
	IN_NETNS=1 exec timeout 120 unshare -n "$0" "$@"
fi

ip link set lo up
ip link set lo multicast on
ip route add 224.0.0.0/4 dev lo
tmp=$(mktemp -d /tmp/discovery.XXXXXX)
"$bin" -listen 127.0.0.1:4450 -mem-share share -user tester:testpass -mdns -wsdd \
	-discovery-interfaces lo -wsdd-workgroup TESTGROUP >"$tmp/cifsd.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
name=$(hostname | cut -d. -f1)
for ((i = 0; i < 50; i++)); do
	grep -q 'wsd: announcing' "$tmp/cifsd.log" && grep -q 'mdns: announcing' "$tmp/cifsd.log" && break
	sleep 0.1
done

pass=0 fail=0
expect() { # expect WHAT PATTERN OUTPUT
	if grep -q -- "$2" <<<"$3"; then
		echo "ok: $1"
		pass=$((pass + 1))
	else
		echo "FAIL: $1: no \"$2\" in: $3"
		fail=$((fail + 1))
	fi
}
q() { timeout 10 host -W 3 -p 5353 -t "$1" "$2" 127.0.0.1 2>&1 || true; }
expect "mDNS PTR _smb._tcp.local" "pointer $name._smb._tcp.local" "$(q PTR _smb._tcp.local)"
expect "mDNS SRV of the instance" "SRV record 0 0 4450 $name.local" "$(q SRV "$name._smb._tcp.local")"
expect "mDNS A of the host" "$name.local has address 127.0.0.1" "$(q A "$name.local")"

wsd=$(timeout 30 /usr/bin/python3 - <<'PY' 2>&1 || true
import re, socket, urllib.request, uuid
probe = f'''<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsd="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:wsdp="http://schemas.xmlsoap.org/ws/2006/02/devprof">
<soap:Header><wsa:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</wsa:To>
<wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</wsa:Action>
<wsa:MessageID>urn:uuid:{uuid.uuid4()}</wsa:MessageID></soap:Header>
<soap:Body><wsd:Probe><wsd:Types>wsdp:Device</wsd:Types></wsd:Probe></soap:Body></soap:Envelope>'''.encode()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
for _ in range(10):
    s.sendto(probe, ("239.255.255.250", 3702))
    try:
        data = s.recv(65536).decode()
        break
    except socket.timeout:
        continue
else:
    raise SystemExit("no ProbeMatches")
print("probematches" if "/discovery/ProbeMatches<" in data else "not a ProbeMatches: " + data)
xaddr = re.search(r"<wsd:XAddrs>([^<]+)</wsd:XAddrs>", data).group(1)
to = re.search(r"<wsa:Address>([^<]+)</wsa:Address>", data).group(1)
get = f'''<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing">
<soap:Header><wsa:To>{to}</wsa:To><wsa:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/Get</wsa:Action>
<wsa:MessageID>urn:uuid:{uuid.uuid4()}</wsa:MessageID></soap:Header><soap:Body/></soap:Envelope>'''.encode()
req = urllib.request.Request(xaddr, data=get, headers={"Content-Type": "application/soap+xml"})
print(urllib.request.urlopen(req, timeout=10).read().decode())
PY
)
expect "WS-Discovery ProbeMatches to a multicast Probe" "^probematches" "$wsd"
expect "WS-Discovery metadata names the computer" "<pub:Computer>$name/Workgroup:TESTGROUP</pub:Computer>" "$wsd"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
