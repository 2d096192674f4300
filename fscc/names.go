package fscc

import (
	"fmt"
	"hash/crc32"
	"strings"
	"unicode"
)

// MatchPattern reports whether name matches the Windows search pattern,
// case-insensitively, with the wildcards of MS-FSA 2.1.4.4: '*', '?', and
// the DOS forms '<' (DOS_STAR), '>' (DOS_QM) and '"' (DOS_DOT). "*" and
// "*.*" match everything, as Samba and Windows' redirector treat them.
// The match simulates the pattern as a set of states, so its cost is
// bounded by len(pattern)*len(name) whatever the pattern.
func MatchPattern(pattern, name string) bool {
	if pattern == "*" || pattern == "*.*" || pattern == "" {
		return true
	}
	p := []rune(strings.ToUpper(pattern))
	n := []rune(strings.ToUpper(name))
	lastDot := -1
	for i, c := range n {
		if c == '.' {
			lastDot = i
		}
	}
	cur := make([]bool, len(p)+1)
	next := make([]bool, len(p)+1)
	cur[0] = true
	closure := func(set []bool, i int) {
		// Epsilon moves at name position i (i == len(n): end of name).
		for k := 0; k < len(p); k++ {
			if !set[k] {
				continue
			}
			switch p[k] {
			case '*', '<':
				set[k+1] = true
			case '>':
				if i == len(n) || n[i] == '.' {
					set[k+1] = true
				}
			case '"':
				if i == len(n) {
					set[k+1] = true
				}
			}
		}
	}
	closure(cur, 0)
	for i, c := range n {
		clear(next)
		any := false
		for k := 0; k < len(p); k++ {
			if !cur[k] {
				continue
			}
			switch pc := p[k]; pc {
			case '*':
				next[k] = true
			case '<':
				if c != '.' || i != lastDot {
					next[k] = true
				}
			case '?', '>':
				next[k+1] = true
			case '"':
				if c == '.' {
					next[k+1] = true
				}
			default:
				if pc == c || unicode.SimpleFold(pc) == c {
					next[k+1] = true
				}
			}
		}
		for _, v := range next {
			any = any || v
		}
		if !any {
			return false
		}
		closure(next, i+1)
		cur, next = next, cur
	}
	return cur[len(p)]
}

// IsWildcard reports whether pattern has a wildcard character.
func IsWildcard(pattern string) bool { return strings.ContainsAny(pattern, `*?<>"`) }

// shortInvalid are the characters not allowed in an 8.3 name.
const shortInvalid = `"*+,/:;<=>?[\]| .`

// Is83 reports whether name is a valid 8.3 name (MS-FSCC 2.1.5.2.1),
// whatever its case. Such a name is its own short name: NTFS gives it no
// other, so a directory listing shows none and FileAlternateNameInformation
// answers the name itself.
func Is83(name string) bool {
	if name == "." || name == ".." {
		return false
	}
	base, ext, hasDot := strings.Cut(name, ".")
	if base == "" || len(base) > 8 || len(ext) > 3 || hasDot && ext == "" || strings.Contains(ext, ".") {
		return false
	}
	for _, r := range name {
		if r == '.' {
			continue
		}
		if r > 0x7E || r <= 0x20 || strings.ContainsRune(shortInvalid, r) {
			return false
		}
	}
	return true
}

// ShortAttempts is how many candidates ShortCandidate offers for a name.
const ShortAttempts = 4 + 9*64

// ShortCandidate returns the attempt'th (from 0) 8.3 name to try for the
// long name, in the shape Windows generates them (RtlGenerate8dot3Name):
// the first six usable characters of the base, upper-cased, then "~1" to
// "~4"; after that two characters, four hex digits of a hash of the name
// and "~1" to "~9", with a new hash every nine attempts. The extension is
// the first three usable characters after the last dot. Spaces, leading
// dots and the other dots are dropped; characters an 8.3 name cannot hold
// become '_'. It returns "" past ShortAttempts. The caller picks the first
// candidate no other name of the directory holds.
func ShortCandidate(long string, attempt int) string {
	if attempt < 0 || attempt >= ShortAttempts {
		return ""
	}
	trimmed := strings.TrimLeft(long, ".")
	base, ext := trimmed, ""
	if i := strings.LastIndexByte(trimmed, '.'); i >= 0 {
		base, ext = trimmed[:i], trimmed[i+1:]
	}
	b := clean83(base, 6)
	e := clean83(ext, 3)
	var short string
	if attempt < 4 {
		if b == "" {
			// Nothing usable for a base: the hash form.
			attempt += 4
		} else {
			short = fmt.Sprintf("%s~%d", b, attempt+1)
		}
	}
	if short == "" {
		round := (attempt - 4) / 9
		n := (attempt-4)%9 + 1
		if len(b) > 2 {
			b = b[:2]
		}
		h := crc32.ChecksumIEEE([]byte(strings.ToUpper(long)))
		if round > 0 {
			h = crc32.Update(h, crc32.IEEETable, []byte{byte(round), byte(round >> 8)})
		}
		short = fmt.Sprintf("%s%04X~%d", b, (h^h>>16)&0xFFFF, n)
	}
	if e != "" {
		short += "." + e
	}
	return short
}

// clean83 upper-cases s and keeps at most max of its characters usable in
// an 8.3 name: spaces and dots dropped, other invalid ones as '_'.
func clean83(s string, max int) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if b.Len() >= max {
			break
		}
		switch {
		case r == ' ' || r == '.':
		case r > 0x7E || r < 0x20 || strings.ContainsRune(shortInvalid, r):
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
