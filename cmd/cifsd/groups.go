package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/cifsd/cifsd/smb"
)

// Groups for "@group" in valid users, invalid users, read list and write
// list come from a file in /etc/group syntax (NAME:PASSWORD:GID:MEMBERS,
// members separated by commas): /etc/group unless the configuration's
// "cifsd:group file" names another. Users are cifsd's own (the user
// database), so only the member list counts, not a Unix primary group.

// groupTable maps lower-cased group names to lower-cased member names.
type groupTable map[string]map[string]bool

// readGroups parses an /etc/group-style file; malformed lines are skipped,
// as the C library skips them.
func readGroups(r io.Reader) (groupTable, error) {
	t := make(groupTable)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' {
			continue
		}
		f := strings.Split(l, ":")
		if len(f) != 4 || f[0] == "" {
			continue
		}
		m := make(map[string]bool)
		for _, u := range strings.Split(f[3], ",") {
			if u = strings.TrimSpace(u); u != "" {
				m[strings.ToLower(u)] = true
			}
		}
		t[strings.ToLower(f[0])] = m
	}
	return t, sc.Err()
}

// loadGroups reads path; a missing file is an empty table.
func loadGroups(path string) (groupTable, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return groupTable{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := readGroups(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// inGroup is smb.Share.InGroup over t.
func (t groupTable) inGroup(user, group string) bool {
	return t[strings.ToLower(group)][strings.ToLower(user)]
}

// accountGroups are the groups of the group file with a member among
// users, as smb.Accounts.Groups: lsarpc and samr name them, and their
// members' access tokens hold them, so an ACE for a group grants its
// members. Without a configuration file there are none.
func (c *Config) accountGroups(users []string) ([]smb.Group, error) {
	if c == nil {
		return nil, nil
	}
	t, err := loadGroups(c.Global.GroupFile)
	if err != nil {
		return nil, err
	}
	var out []smb.Group
	for name, members := range t {
		g := smb.Group{Name: name}
		for _, u := range users {
			if members[strings.ToLower(u)] {
				g.Members = append(g.Members, u)
			}
		}
		if len(g.Members) > 0 {
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b smb.Group) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
