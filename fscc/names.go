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

// ShortName returns the 8.3 name Windows would give long (MS-FSCC
// 2.1.5.2.1): long itself, with needed false, when it is already a valid
// 8.3 name; otherwise a name of the form BASE~N.EXT where the ~N suffix
// comes from a hash of the long name, so the same name always gets the
// same short name.
func ShortName(long string) (short string, needed bool) {
	if long == "." || long == ".." {
		return long, false
	}
	if isValid83(long) {
		return long, false
	}
	base, ext := long, ""
	if i := strings.LastIndexByte(long, '.'); i > 0 {
		base, ext = long[:i], long[i+1:]
	}
	clean := func(s string, max int) string {
		var b strings.Builder
		for _, r := range strings.ToUpper(s) {
			if b.Len() >= max {
				break
			}
			switch {
			case r > 0x7E || r < 0x20:
				b.WriteByte('_')
			case strings.ContainsRune(shortInvalid, r):
				if r != ' ' && r != '.' {
					b.WriteByte('_')
				}
			default:
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	b := clean(base, 6)
	if len(b) > 2 {
		b = b[:2]
	}
	h := crc32.ChecksumIEEE([]byte(long))
	short = fmt.Sprintf("%s%04X~1", b, h&0xFFFF)
	if e := clean(ext, 3); e != "" {
		short += "." + e
	}
	return short, true
}

func isValid83(s string) bool {
	base, ext, hasDot := strings.Cut(s, ".")
	if base == "" || len(base) > 8 || len(ext) > 3 || hasDot && ext == "" || strings.Contains(ext, ".") {
		return false
	}
	for _, r := range s {
		if r == '.' {
			continue
		}
		if r > 0x7E || r <= 0x20 || strings.ContainsRune(shortInvalid, r) || unicode.IsLower(r) {
			return false
		}
	}
	return true
}
