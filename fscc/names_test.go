package fscc

import (
	"strings"
	"testing"
)

func TestMatchPattern(t *testing.T) {
	for _, c := range []struct {
		pattern, name string
		want          bool
	}{
		{"*", "anything", true},
		{"*.*", "noext", true},
		{"*.txt", "a.TXT", true},
		{"*.txt", "a.txt.bak", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"FILE", "file", true},
		{"file", "file2", false},
		{`<.txt`, "a.b.txt", true},
		{`<.txt`, "a.txt", true},
		{`<"txt`, "a.txt", true},
		{`a>>>`, "a", true},
		{`a>>>`, "abcd", true},
		{`a>>>`, "abcde", false},
		{`a"`, "a", true},
		{"*a*b*c*", "xxaxxbxxcxx", true},
		{"*a*b*c*", "xxaxxcxxbxx", false},
	} {
		if got := MatchPattern(c.pattern, c.name); got != c.want {
			t.Errorf("MatchPattern(%q, %q) = %v", c.pattern, c.name, got)
		}
	}
	// A hostile pattern stays cheap.
	if MatchPattern(strings.Repeat("*a", 200)+"b", strings.Repeat("a", 2000)) {
		t.Error("matched")
	}
}

func TestIs83(t *testing.T) {
	for name, want := range map[string]bool{
		"README.TXT": true, "readme.txt": true, "kfxN": true, "A~1": true, "$X-Y.Z": true,
		"a long name": false, "toolongname": false, "a.b.c": false, "a.text": false,
		".": false, "..": false, ".x": false, "x.": false, "a+b": false, "é": false,
	} {
		if got := Is83(name); got != want {
			t.Errorf("Is83(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestShortCandidate(t *testing.T) {
	for _, c := range []struct {
		long    string
		attempt int
		want    string
	}{
		{"a long file name.text", 0, "ALONGF~1.TEX"},
		{"a long file name.text", 3, "ALONGF~4.TEX"},
		{"Program Files", 0, "PROGRA~1"},
		{".bashrc", 0, "BASHRC~1"},
		{"a.b.c.txt", 1, "ABC~2.TXT"},
		{"x+y,z.html", 0, "X_Y_Z~1.HTM"},
	} {
		if got := ShortCandidate(c.long, c.attempt); got != c.want {
			t.Errorf("ShortCandidate(%q, %d) = %q, want %q", c.long, c.attempt, got, c.want)
		}
	}
	// Past the fourth, two characters and a hash; every candidate is a
	// valid 8.3 name, and the attempts differ.
	seen := map[string]bool{}
	for i := 0; i < ShortAttempts; i++ {
		s := ShortCandidate("a long file name.text", i)
		if !Is83(s) || seen[s] {
			t.Fatalf("attempt %d: %q", i, s)
		}
		seen[s] = true
		if i >= 4 && !strings.HasPrefix(s, "AL") {
			t.Fatalf("attempt %d: %q", i, s)
		}
	}
	if ShortCandidate("x y", ShortAttempts) != "" {
		t.Error("candidate past the last attempt")
	}
	for _, long := range []string{"   .txt", "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"} {
		if s := ShortCandidate(long, 0); !Is83(s) {
			t.Errorf("ShortCandidate(%q) = %q", long, s)
		}
	}
}

func FuzzMatchPattern(f *testing.F) {
	f.Add("*.txt", "a.txt")
	f.Add(`<"*>?`, "a.b.c")
	f.Fuzz(func(t *testing.T, p, n string) {
		if len(p) > 256 || len(n) > 256 {
			return
		}
		MatchPattern(p, n)
	})
}
