// Package smbconf reads configuration files in the syntax of Samba's
// smb.conf(5) and ksmbd-tools' ksmbd.conf(5): "[section]" headers followed
// by "name = value" lines.
//
// The syntax, as both document it:
//   - a line whose first non-blank character is '#' or ';' is a comment;
//   - a line ending in '\' continues on the next line;
//   - parameter names are case-insensitive, and spaces and underscores in
//     them do not count ("read only", "readonly" and "Read_Only" are one
//     parameter);
//   - leading and trailing blanks of names and values are dropped;
//   - a section named twice is one section (its parameters are merged);
//   - parameters before the first section belong to [global].
//
// The package only parses: what a parameter means is the caller's business
// (cmd/cifsd maps them onto smb.Server and smb.Share).
package smbconf

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// MaxLine bounds one logical line (continuations included), so a file
// without newlines cannot make the parser hold it all twice.
const MaxLine = 64 << 10

// File is a parsed configuration file.
type File struct {
	// Name is the file name errors and warnings quote.
	Name string
	// Sections in the order of their first header; [global] is among them
	// when the file has it (or parameters before any header).
	Sections []*Section
}

// Section is one "[name]" section.
type Section struct {
	// Name as first written (sections compare case-insensitively).
	Name string
	// Line of the first header (0 for parameters before any header).
	Line int
	// Params in file order; a parameter given twice appears twice (the
	// last one wins, as in Samba: see Get).
	Params []Param
}

// Param is one "name = value" line.
type Param struct {
	// Name as written; Key(Name) is how it compares.
	Name  string
	Value string
	Line  int
}

// SyntaxError is a line the parser cannot read.
type SyntaxError struct {
	File string
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Key is the canonical form of a parameter name: lower case, without
// spaces, tabs or underscores.
func Key(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r == ' ' || r == '\t' || r == '_' {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Parse reads a configuration from r; name is used in errors.
func Parse(name string, r io.Reader) (*File, error) {
	f := &File{Name: name}
	byName := make(map[string]*Section)
	var cur *Section
	section := func(n string, line int) *Section {
		k := strings.ToLower(n)
		if s := byName[k]; s != nil {
			return s
		}
		s := &Section{Name: n, Line: line}
		byName[k] = s
		f.Sections = append(f.Sections, s)
		return s
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLine)
	lineNo := 0
	for {
		text, start, ok, err := logicalLine(sc, &lineNo)
		if err != nil {
			return nil, &SyntaxError{File: name, Line: lineNo + 1, Msg: err.Error()}
		}
		if !ok {
			break
		}
		text = strings.TrimSpace(text)
		if text == "" || text[0] == '#' || text[0] == ';' {
			continue
		}
		if text[0] == '[' {
			end := strings.IndexByte(text, ']')
			if end < 0 {
				return nil, &SyntaxError{File: name, Line: start, Msg: "section header without ']'"}
			}
			n := strings.TrimSpace(text[1:end])
			if n == "" {
				return nil, &SyntaxError{File: name, Line: start, Msg: "empty section name"}
			}
			if rest := strings.TrimSpace(text[end+1:]); rest != "" && rest[0] != '#' && rest[0] != ';' {
				return nil, &SyntaxError{File: name, Line: start, Msg: fmt.Sprintf("text after section header: %q", rest)}
			}
			cur = section(n, start)
			continue
		}
		k, v, found := strings.Cut(text, "=")
		k = strings.TrimSpace(k)
		if !found || k == "" {
			return nil, &SyntaxError{File: name, Line: start, Msg: fmt.Sprintf("want \"name = value\" or \"[section]\", got %q", clip(text))}
		}
		if cur == nil {
			cur = section("global", 0)
		}
		cur.Params = append(cur.Params, Param{Name: k, Value: strings.TrimSpace(v), Line: start})
	}
	return f, nil
}

// logicalLine joins continued lines; start is the number of its first line.
func logicalLine(sc *bufio.Scanner, lineNo *int) (text string, start int, ok bool, err error) {
	var b strings.Builder
	for sc.Scan() {
		*lineNo++
		if start == 0 {
			start = *lineNo
		}
		l := strings.TrimRight(sc.Text(), "\r")
		if strings.HasSuffix(l, "\\") {
			b.WriteString(l[:len(l)-1])
			if b.Len() > MaxLine {
				return "", start, false, fmt.Errorf("line longer than %d bytes", MaxLine)
			}
			continue
		}
		b.WriteString(l)
		if b.Len() > MaxLine {
			return "", start, false, fmt.Errorf("line longer than %d bytes", MaxLine)
		}
		return b.String(), start, true, nil
	}
	if err := sc.Err(); err != nil {
		return "", start, false, err
	}
	if start != 0 { // a continuation at the end of the file
		return b.String(), start, true, nil
	}
	return "", 0, false, nil
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// Section returns the section called name (case-insensitive), or nil.
func (f *File) Section(name string) *Section {
	for _, s := range f.Sections {
		if strings.EqualFold(s.Name, name) {
			return s
		}
	}
	return nil
}

// Get returns the last value given for the parameter name in s.
func (s *Section) Get(name string) (Param, bool) {
	k := Key(name)
	for i := len(s.Params) - 1; i >= 0; i-- {
		if Key(s.Params[i].Name) == k {
			return s.Params[i], true
		}
	}
	return Param{}, false
}

// ParseBool reads a boolean as Samba does: yes/no, true/false, on/off, 1/0
// (case-insensitive).
func ParseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "true", "on", "1":
		return true, nil
	case "no", "false", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (yes/no)", v)
}

// ParseOctal reads a permission mask such as "0744" (Samba reads masks in
// octal, with or without the leading 0).
func ParseOctal(v string) (uint32, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
	if err != nil || n > 0o7777 {
		return 0, fmt.Errorf("%q is not an octal mode (0000-7777)", v)
	}
	return uint32(n), nil
}

// SplitList splits a list value as Samba does: on commas and blanks, with
// double quotes grouping a name that has blanks ("valid users = alice,
// \"bob smith\", @staff").
func SplitList(v string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for _, r := range v {
		switch {
		case r == '"':
			quoted = !quoted
		case !quoted && (r == ',' || r == ' ' || r == '\t'):
			flush()
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return out
}

// SplitSlashList splits a "/pattern/pattern/" list (veto files, hide
// files) into its patterns.
func SplitSlashList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, "/") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
