// Package userdb reads and writes cifsd's user database, in the format of
// ksmbd-tools' ksmbdpwd.db(5), so a database made by ksmbd.adduser is served
// as it is and the other way round:
//
//	NAME:BASE64(MD4(UTF-16LE(PASSWORD)))
//
// one user a line. The name is UTF-8, 1 to 47 bytes, without ':' or a
// newline. Only the NT hash is stored, never the password.
package userdb

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// DefaultPath is where cifsd looks for the database when the configuration
// names none (Samba's option "smb passwd file").
const DefaultPath = "/etc/cifsd/cifsdpwd.db"

// MaxNameLen is one more than the longest user name ksmbd-tools accepts.
const MaxNameLen = 48

// MaxPasswordLen is one more than the longest password (in UTF-8 bytes)
// ksmbd-tools accepts.
const MaxPasswordLen = 129

// DB maps user names to NT hashes (16 bytes each).
type DB map[string][]byte

// CheckName reports why name cannot be a user name, or nil.
func CheckName(name string) error {
	switch {
	case name == "":
		return errors.New("empty user name")
	case len(name) >= MaxNameLen:
		return fmt.Errorf("user name %q is %d bytes, longer than %d", name, len(name), MaxNameLen-1)
	case strings.ContainsAny(name, ":\n\r"):
		return fmt.Errorf("user name %q contains ':' or a newline", name)
	}
	return nil
}

// Read parses a database; name is used in errors.
func Read(name string, r io.Reader) (DB, error) {
	db := make(DB)
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		l := strings.TrimRight(sc.Text(), "\r")
		if l == "" {
			continue
		}
		user, enc, ok := strings.Cut(l, ":")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want NAME:HASH", name, line)
		}
		if err := CheckName(user); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		h, err := base64.StdEncoding.DecodeString(enc)
		if err != nil || len(h) != 16 {
			return nil, fmt.Errorf("%s:%d: user %s: the password is not a Base64 NT hash", name, line, user)
		}
		db[user] = h
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return db, nil
}

// Load reads the database at path.
func Load(path string) (DB, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(path, f)
}

// Names returns the users, sorted.
func (db DB) Names() []string {
	out := make([]string, 0, len(db))
	for n := range db {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Marshal renders the database in file form, users sorted.
func (db DB) Marshal() []byte {
	var b bytes.Buffer
	for _, n := range db.Names() {
		b.WriteString(n)
		b.WriteByte(':')
		b.WriteString(base64.StdEncoding.EncodeToString(db[n]))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Save writes the database to path atomically (a temporary file renamed
// over it), readable by its owner only; the directory is created if needed.
func (db DB) Save(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".cifsdpwd-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	// A new database is its owner's only; a rewritten one keeps the mode
	// and the owner it had (so a daemon running as its own user, which an
	// operator let read it, still can after `cifsd user add` as root).
	mode := fs.FileMode(0o600)
	old, statErr := os.Stat(path)
	if statErr == nil {
		mode = old.Mode().Perm()
		keepOwner(tmp, old)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(db.Marshal()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// CheckPassword reports why password cannot be stored, or nil.
func CheckPassword(password string) error {
	if len(password) >= MaxPasswordLen {
		return fmt.Errorf("password is %d bytes, longer than %d", len(password), MaxPasswordLen-1)
	}
	return nil
}
