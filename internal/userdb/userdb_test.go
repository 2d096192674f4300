package userdb

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cifsd/cifsd/ntlm"
)

// A line as ksmbd.adduser writes it for user "tester", password "password",
// whose NT hash is the well-known 8846f7eaee8fb117ad06bdd830b7586c; cifsd
// must read such files unchanged.
func TestReadKsmbdLine(t *testing.T) {
	want := ntlm.NTHash("password")
	line := "tester:" + "iEb36u6PsRetBr3YMLdYbA==" + "\n"
	db, err := Read("ksmbdpwd.db", strings.NewReader(line))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(db["tester"], want) {
		t.Fatalf("hash = %x, want NTHash(password) = %x", db["tester"], want)
	}
	if got := string(db.Marshal()); got != line {
		t.Fatalf("Marshal = %q, want %q", got, line)
	}
}

func TestSaveLoad(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "pwd.db")
	db := DB{"bob": ntlm.NTHash("x"), "alice": ntlm.NTHash("secret")}
	if err := db.Save(p); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode())
	}
	raw, _ := os.ReadFile(p)
	if bytes.Contains(raw, []byte("secret")) {
		t.Fatal("password stored in clear")
	}
	back, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 || !bytes.Equal(back["alice"], ntlm.NTHash("secret")) {
		t.Fatalf("loaded %v", back)
	}
}

func TestReadRejects(t *testing.T) {
	for _, in := range []string{"nocolon\n", ":AAAA\n", "u:notbase64!\n", "u:AAAA\n", strings.Repeat("n", 48) + ":iEb36u6PsRetBr3YMLdYbA==\n"} {
		if _, err := Read("db", strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), "db:1") {
			t.Errorf("%q: err = %v, want one naming db:1", in, err)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add("tester:iEb36u6PsRetBr3YMLdYbA==\n")
	f.Fuzz(func(t *testing.T, in string) {
		db, err := Read("db", strings.NewReader(in))
		if err != nil {
			return
		}
		again, err := Read("db", bytes.NewReader(db.Marshal()))
		if err != nil || len(again) != len(db) {
			t.Fatalf("round trip: %v, %d != %d users", err, len(again), len(db))
		}
	})
}

// Rewriting keeps the mode an operator gave the file (say 0640 for a
// daemon's group).
func TestSaveKeepsMode(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pwd.db")
	db := DB{"a": ntlm.NTHash("x")}
	if err := db.Save(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o640); err != nil {
		t.Fatal(err)
	}
	db["b"] = ntlm.NTHash("y")
	if err := db.Save(p); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v after a rewrite, want 0640", fi.Mode())
	}
}
