package smb

import (
	"context"
	"errors"
	"io/fs"
	"path"
	"strings"

	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// maxPathLen bounds a path from the client, in characters (Windows' 32K
// limit on UNC paths).
const maxPathLen = 32767

// cleanPath turns the path of a CREATE into a vfs name and a stream name:
// backslashes become slashes, the root is ".", and "file:stream:$DATA"
// names the stream "stream" of "file" (MS-FSCC 2.1.5.1.1; "file::$DATA" is
// the file itself). A ".." element takes away the element before it, as
// Windows' server does before the name reaches the file system ("a\..\b"
// is "b", "dir\sub\.." is "dir", whether or not "a" or "sub" exist); one
// that would climb above the share root is OBJECT_PATH_SYNTAX_BAD. It
// refuses the rest of what Windows refuses: "." elements, empty elements
// and invalid characters (MS-FSCC 2.1.5.2).
func cleanPath(p string) (name, stream string, st smb2.Status) {
	if len(p) > maxPathLen {
		return "", "", smb2.StatusObjectNameInvalid
	}
	if strings.HasPrefix(p, `\`) {
		// MS-SMB2 3.3.5.9: a CREATE name must not begin with a backslash.
		return "", "", smb2.StatusInvalidParameter
	}
	if i := strings.IndexByte(p, ':'); i >= 0 {
		var typ string
		var typed bool
		stream, typ, typed = strings.Cut(p[i+1:], ":")
		p = p[:i]
		if typed && !strings.EqualFold(typ, "$DATA") || strings.ContainsAny(stream, `\/:`) {
			// "file:stream:" names no type: invalid, as is any type but
			// $DATA (MS-FSCC 2.1.5.1.1).
			return "", "", smb2.StatusObjectNameInvalid
		}
		if stream == "" && typ == "" {
			return "", "", smb2.StatusObjectNameInvalid
		}
	}
	p = strings.TrimRight(p, `\`)
	if p == "" {
		return ".", stream, smb2.StatusSuccess
	}
	elems := strings.Split(p, `\`)
	out := elems[:0] // the elements kept, in place
	for _, e := range elems {
		switch {
		case e == "" || e == ".":
			return "", "", smb2.StatusObjectNameInvalid
		case e == "..":
			if len(out) == 0 {
				// Above the share root (Windows answers so).
				return "", "", smb2.StatusObjectPathSyntaxBad
			}
			out = out[:len(out)-1]
			continue
		}
		for _, r := range e {
			if r < 0x20 || strings.ContainsRune(`"*/<>?|`, r) {
				return "", "", smb2.StatusObjectNameInvalid
			}
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		// "a\.." is the root itself.
		return ".", stream, smb2.StatusSuccess
	}
	return strings.Join(out, "/"), stream, smb2.StatusSuccess
}

// resolve finds the backend name of the cleaned path p, matching each
// element case-insensitively as Windows does. It returns the resolved name,
// the file's info when it exists (nil when only the last element is
// missing: the name then keeps the client's spelling of it), or an error
// status: OBJECT_PATH_NOT_FOUND when a parent is missing.
func (sh *shareState) resolve(ctx context.Context, p string) (string, fs.FileInfo, smb2.Status) {
	fsys := sh.cfg.FS
	if fi, err := fsys.Stat(ctx, p); err == nil {
		return p, fi, smb2.StatusSuccess
	} else if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, vfs.ErrNotDir) {
		return "", nil, statusOf(err)
	}
	if p == "." {
		return "", nil, smb2.StatusObjectNameNotFound
	}
	elems := strings.Split(p, "/")
	cur := "."
	for i, e := range elems {
		last := i == len(elems)-1
		next := path.Join(cur, e)
		fi, err := fsys.Stat(ctx, next)
		if err == nil {
			if !last && !fi.IsDir() {
				return "", nil, smb2.StatusObjectPathNotFound
			}
			if last {
				return next, fi, smb2.StatusSuccess
			}
			cur = next
			continue
		}
		var found string
		if !sh.caseInsensitive {
			found, fi = sh.lookupFold(ctx, cur, e)
		}
		if found == "" {
			// An 8.3 name given to a file (name_short.go).
			found, fi = sh.longName(ctx, cur, e)
		}
		if found == "" && last {
			// A name deleted or renamed away moments ago whose short name
			// this is: the new file takes the old long name (tunneling).
			if long := sh.tunneled(cur, e); long != "" {
				if _, err := fsys.Stat(ctx, path.Join(cur, long)); errors.Is(err, fs.ErrNotExist) {
					next = path.Join(cur, long)
				}
			}
		}
		switch {
		case found != "" && last:
			return path.Join(cur, found), fi, smb2.StatusSuccess
		case found != "" && fi.IsDir():
			cur = path.Join(cur, found)
		case last:
			return next, nil, smb2.StatusSuccess
		default:
			return "", nil, smb2.StatusObjectPathNotFound
		}
	}
	return cur, nil, smb2.StatusSuccess
}

// splitParent returns the parent directory and base name of a vfs name.
func splitParent(p string) (dir, base string) {
	dir, base = path.Split(p)
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		dir = "."
	}
	return dir, base
}

// foldKey is the key under which opens of a name are tracked: names that
// differ only in case are the same file.
func foldKey(p string) string { return strings.ToUpper(p) }

// namesDefaultStream reports whether a CREATE name spells out the default
// data stream ("dir::$DATA"), which a directory does not have.
func namesDefaultStream(p string) bool {
	return len(p) >= 7 && strings.EqualFold(p[len(p)-7:], "::$DATA")
}
