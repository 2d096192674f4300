package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cifsd/cifsd/internal/userdb"
	"github.com/cifsd/cifsd/ntlm"
)

// runUser is `cifsd user add|delete|passwd|list [-config FILE] [-db FILE]
// [-stdin] [NAME]`: it maintains the user database (ksmbdpwd.db format,
// internal/userdb) that the configuration names with "smb passwd file".
// Passwords are read from the terminal without echo, or as one line from
// standard input with -stdin; only their NT hashes are written.
func runUser(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: cifsd user add|delete|passwd|list [-config FILE] [-db FILE] [-stdin] [NAME]")
	}
	cmd := args[0]
	switch cmd {
	case "add", "delete", "passwd", "list":
	default:
		return fmt.Errorf("unknown user command %q (add, delete, passwd, list)", cmd)
	}
	fl := flag.NewFlagSet("cifsd user "+cmd, flag.ContinueOnError)
	fl.SetOutput(stderr)
	configFile := fl.String("config", "", "configuration file naming the database (smb passwd file)")
	dbFile := fl.String("db", "", "user database (default: the configuration's smb passwd file, else "+userdb.DefaultPath+")")
	fromStdin := fl.Bool("stdin", false, "read the password as one line from standard input")
	if err := fl.Parse(args[1:]); err != nil {
		return err
	}
	path := *dbFile
	if path == "" {
		path = userdb.DefaultPath
		if *configFile != "" {
			c, err := loadConfig(*configFile)
			if err != nil {
				return err
			}
			path = c.Global.PasswdFile
		}
	}
	db, err := userdb.Load(path)
	if errors.Is(err, os.ErrNotExist) && cmd == "add" {
		db, err = userdb.DB{}, nil
	}
	if err != nil {
		return err
	}
	if cmd == "list" {
		if fl.NArg() != 0 {
			return errors.New("usage: cifsd user list [-config FILE] [-db FILE]")
		}
		for _, n := range db.Names() {
			fmt.Fprintln(stdout, n)
		}
		return nil
	}
	if fl.NArg() != 1 {
		return fmt.Errorf("usage: cifsd user %s [-config FILE] [-db FILE] [-stdin] NAME", cmd)
	}
	name := fl.Arg(0)
	if err := userdb.CheckName(name); err != nil {
		return err
	}
	_, exists := db[name]
	switch cmd {
	case "add", "passwd":
		if cmd == "add" && exists {
			return fmt.Errorf("user %s exists (cifsd user passwd changes the password)", name)
		}
		if cmd == "passwd" && !exists {
			return fmt.Errorf("no user %s in %s", name, path)
		}
		pw, err := readPassword(stdin, stderr, *fromStdin)
		if err != nil {
			return err
		}
		db[name] = ntlm.NTHash(pw)
	case "delete":
		if !exists {
			return fmt.Errorf("no user %s in %s", name, path)
		}
		delete(db, name)
	}
	if err := db.Save(path); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%s: user %s %s\n", path, name, map[string]string{"add": "added", "passwd": "changed", "delete": "deleted"}[cmd])
	return nil
}

// readPassword reads a password: one line of r with fromStdin, else twice
// from the terminal with echo off.
func readPassword(r io.Reader, prompt io.Writer, fromStdin bool) (string, error) {
	var pw string
	if fromStdin {
		l, err := bufio.NewReader(r).ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && l != "") {
			return "", fmt.Errorf("reading the password from standard input: %w", err)
		}
		pw = strings.TrimRight(l, "\r\n")
	} else {
		tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
		if err != nil {
			return "", fmt.Errorf("no terminal to read the password from (use -stdin): %w", err)
		}
		defer tty.Close()
		fmt.Fprint(tty, "New password: ")
		pw, err = readNoEcho(tty)
		if err != nil {
			return "", err
		}
		fmt.Fprint(tty, "\nRetype new password: ")
		again, err := readNoEcho(tty)
		fmt.Fprintln(tty)
		if err != nil {
			return "", err
		}
		if again != pw {
			return "", errors.New("the passwords differ")
		}
	}
	return pw, userdb.CheckPassword(pw)
}
