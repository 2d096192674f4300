#!/usr/bin/env bash
# Print the smbtorture tests of test/smbtorture/pass.txt that apply to cifsd
# with one signing policy, one name a line, for test/interop/smbtorture.sh.
#
#   test/interop/passlist.sh enabled  [SUBSET]   cifsd -signing enabled
#   test/interop/passlist.sh required [SUBSET]   the daemon's default (required)
#
# A line of pass.txt whose comment starts "enabled-only:" or "required-only:"
# names a test that passes with that policy alone; the rest of its comment
# says why. SUBSET names a file of prefixes (suites or tests, one a line,
# '#' comments): only the entries under one of them are printed; `make test`
# runs such a subset against the defaults (test/smbtorture/pass-signing-required.txt).
# PASS_LIST overrides test/smbtorture/pass.txt.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
mode=${1:?usage: $0 enabled|required [SUBSET]}
subset=${2:-}
list=${PASS_LIST:-$root/test/smbtorture/pass.txt}
case $mode in
enabled) skip=required-only ;;
required) skip=enabled-only ;;
*) echo "$0: mode must be enabled or required" >&2; exit 2 ;;
esac
awk -v skip="$skip" -v subset="$subset" '
	BEGIN {
		if (subset != "") {
			while ((getline line < subset) > 0) {
				sub(/#.*/, "", line); gsub(/^[ \t]+|[ \t]+$/, "", line)
				if (line != "") P[++np] = line
			}
		}
	}
	{
		name = $0; note = ""
		if (index(name, "#") > 0) { note = substr(name, index(name, "#") + 1); name = substr(name, 1, index(name, "#") - 1) }
		gsub(/^[ \t]+|[ \t]+$/, "", name); gsub(/^[ \t]+/, "", note)
		if (name == "" || index(note, skip ":") == 1) next
		if (np > 0) {
			ok = 0
			for (i = 1; i <= np; i++) if (name == P[i] || index(name, P[i] ".") == 1) ok = 1
			if (!ok) next
		}
		if (!(name in seen)) { seen[name] = 1; print name }
	}' "$list"
