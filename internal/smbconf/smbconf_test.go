package smbconf

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const sample = `# a comment
; another
workgroup = WG

[global]
   netbios name = FILES
   Server_String = my \
      server

[data]
	path = /srv/data
	read only = no
	valid users = alice, "bob smith" @staff
[DATA]
	read only = yes
`

func TestParse(t *testing.T) {
	f, err := Parse("smb.conf", strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Sections) != 2 {
		t.Fatalf("sections = %d, want 2 (global, data merged)", len(f.Sections))
	}
	g := f.Section("GLOBAL")
	if p, ok := g.Get("workgroup"); !ok || p.Value != "WG" || p.Line != 3 {
		t.Errorf("workgroup before [global] = %+v %v", p, ok)
	}
	if p, _ := g.Get("server string"); p.Value != "my       server" || p.Line != 7 {
		t.Errorf("continued line = %+v", p)
	}
	d := f.Section("data")
	if p, _ := d.Get("readonly"); p.Value != "yes" || p.Line != 15 {
		t.Errorf("last read only wins: %+v", p)
	}
	p, _ := d.Get("VALID_USERS")
	if got := SplitList(p.Value); !reflect.DeepEqual(got, []string{"alice", "bob smith", "@staff"}) {
		t.Errorf("SplitList = %q", got)
	}
}

func TestParseErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct {
		in   string
		line int
	}{
		{"[global]\nfoo\n", 2},
		{"\n\n[broken\n", 3},
		{"[]\n", 1},
		{"[a] junk\n", 1},
		{"[a]\n = x\n", 2},
	} {
		_, err := Parse("x.conf", strings.NewReader(tc.in))
		var se *SyntaxError
		if !errors.As(err, &se) || se.Line != tc.line || se.File != "x.conf" {
			t.Errorf("%q: err = %v, want a SyntaxError at line %d", tc.in, err, tc.line)
		}
	}
}

func TestValues(t *testing.T) {
	for v, want := range map[string]bool{"Yes": true, "no": false, "TRUE": true, "0": false, "on": true} {
		if got, err := ParseBool(v); err != nil || got != want {
			t.Errorf("ParseBool(%q) = %v, %v", v, got, err)
		}
	}
	if _, err := ParseBool("maybe"); err == nil {
		t.Error("ParseBool(maybe) succeeded")
	}
	if m, err := ParseOctal("0744"); err != nil || m != 0o744 {
		t.Errorf("ParseOctal = %o, %v", m, err)
	}
	if _, err := ParseOctal("999"); err == nil {
		t.Error("ParseOctal(999) succeeded")
	}
	if got := SplitSlashList("/.*/*.tmp/ desktop.ini /"); !reflect.DeepEqual(got, []string{".*", "*.tmp", "desktop.ini"}) {
		t.Errorf("SplitSlashList = %q", got)
	}
	if Key("Read_Only") != Key("read only") || Key("readonly") != "readonly" {
		t.Error("Key does not fold case, spaces and underscores")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sample)
	f.Add("[a]\\\n")
	f.Add("x=\\")
	f.Fuzz(func(t *testing.T, in string) {
		file, err := Parse("fuzz.conf", strings.NewReader(in))
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		for _, s := range file.Sections {
			for _, p := range s.Params {
				if p.Line < 1 || p.Line < s.Line || strings.TrimSpace(p.Name) != p.Name || p.Name == "" {
					t.Fatalf("bad param %+v", p)
				}
				SplitList(p.Value)
				SplitSlashList(p.Value)
			}
		}
	})
}
