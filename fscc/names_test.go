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

func TestShortName(t *testing.T) {
	if s, needed := ShortName("README.TXT"); needed || s != "README.TXT" {
		t.Errorf("valid 8.3: %q %v", s, needed)
	}
	s1, needed := ShortName("a long file name.text")
	if !needed || len(s1) > 12 || !strings.Contains(s1, "~") || !strings.HasSuffix(s1, ".TEX") {
		t.Errorf("short name %q", s1)
	}
	if s2, _ := ShortName("a long file name.text"); s2 != s1 {
		t.Errorf("not stable: %q %q", s1, s2)
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
