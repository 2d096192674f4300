package main

import (
	"context"
	"fmt"
	"net"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/internal/smbwire"
	"github.com/cifsd/cifsd/smb2"
	gosmb2 "github.com/hirochachacha/go-smb2"
)

// The clients the workload can run with (-client).
const (
	// clientWire is internal/smbwire in inline mode: it costs less CPU
	// per operation than either server, so the rates compare servers.
	clientWire = "wire"
	// clientGoSMB2 is github.com/hirochachacha/go-smb2, which costs
	// about as much CPU per operation as the servers.
	clientGoSMB2 = "gosmb2"
)

// benchConn is one connection doing the workload's operations, each as
// go-smb2's Share method of the same name sends it.
type benchConn interface {
	mkdir(name string) error
	create(name string) error // create + close, truncating
	stat(name string) error
	list(dir string) (int, error) // entries other than . and ..
	rename(from, to string) error
	remove(name string) error
	close()
}

// gosmb2Conn is a go-smb2 session and tree connect.
type gosmb2Conn struct {
	conn  net.Conn
	sess  *gosmb2.Session
	share *gosmb2.Share
}

func dialGoSMB2(ctx context.Context, cfg config) (*gosmb2Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", cfg.addr)
	if err != nil {
		return nil, err
	}
	dialer := &gosmb2.Dialer{Initiator: &gosmb2.NTLMInitiator{User: cfg.user, Password: cfg.pass}}
	sess, err := dialer.DialContext(ctx, conn)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("session setup: %w", err)
	}
	share, err := sess.Mount(cfg.share)
	if err != nil {
		sess.Logoff()
		conn.Close()
		return nil, fmt.Errorf("tree connect %s: %w", cfg.share, err)
	}
	return &gosmb2Conn{conn: conn, sess: sess, share: share}, nil
}

func (g *gosmb2Conn) mkdir(name string) error { return g.share.Mkdir(name, 0o755) }

func (g *gosmb2Conn) create(name string) error {
	f, err := g.share.Create(name)
	if err != nil {
		return err
	}
	return f.Close()
}

func (g *gosmb2Conn) stat(name string) error {
	_, err := g.share.Stat(name)
	return err
}

func (g *gosmb2Conn) list(dir string) (int, error) {
	f, err := g.share.Open(dir)
	if err != nil {
		return 0, err
	}
	list, err := f.Readdir(-1)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return len(list), err
}

func (g *gosmb2Conn) rename(from, to string) error { return g.share.Rename(from, to) }
func (g *gosmb2Conn) remove(name string) error     { return g.share.Remove(name) }

func (g *gosmb2Conn) close() {
	g.share.Umount()
	g.sess.Logoff()
	g.conn.Close()
}

// fileSynchronousIONonalert is FILE_SYNCHRONOUS_IO_NONALERT (MS-SMB2
// 2.2.13), which go-smb2 sets on the opens of OpenFile; servers ignore it.
const fileSynchronousIONonalert = 0x00000020

// The CREATE requests go-smb2 v1.1.0 sends (client.go): Create is
// OpenFile(O_RDWR|O_CREATE|O_TRUNC, 0666), Open is OpenFile(O_RDONLY),
// Stat, Remove and Rename open as below.
var (
	createReq = smbwire.CreateRequest{
		Access:      smb2.GenericRead | smb2.GenericWrite,
		Attributes:  fscc.FileAttributeNormal,
		Share:       smb2.FileShareRead | smb2.FileShareWrite,
		Disposition: smb2.FileOverwriteIf,
		Options:     fileSynchronousIONonalert,
	}
	openReq = smbwire.CreateRequest{
		Access:      smb2.GenericRead,
		Attributes:  fscc.FileAttributeNormal,
		Share:       smb2.FileShareRead | smb2.FileShareWrite,
		Disposition: smb2.FileOpen,
		Options:     fileSynchronousIONonalert,
	}
	statReq = smbwire.CreateRequest{
		Access:      smb2.FileReadAttributes,
		Attributes:  fscc.FileAttributeNormal,
		Share:       smb2.FileShareRead | smb2.FileShareWrite,
		Disposition: smb2.FileOpen,
	}
	removeReq = smbwire.CreateRequest{
		Access:      smb2.Delete,
		Share:       smb2.FileShareDelete,
		Disposition: smb2.FileOpen,
		Options:     smb2.FileOpenReparsePoint,
	}
	renameReq = smbwire.CreateRequest{
		Access:      smb2.Delete,
		Attributes:  fscc.FileAttributeNormal,
		Share:       smb2.FileShareDelete,
		Disposition: smb2.FileOpen,
		Options:     smb2.FileOpenReparsePoint,
	}
)

// wireConn is an smbwire client in inline mode, sending the requests
// go-smb2 sends for each operation (same dialect, 3.1.1, and the same
// CREATE fields, QUERY_DIRECTORY class and buffer size), so the servers do
// the same work for either client.
type wireConn struct {
	c *smbwire.Client
}

func dialWire(ctx context.Context, cfg config) (*wireConn, error) {
	c, err := smbwire.Dial(ctx, cfg.addr, cfg.share, cfg.user, cfg.pass, smbwire.Options{Inline: true, Dialect: smb2.Dialect311})
	if err != nil {
		return nil, err
	}
	return &wireConn{c: c}, nil
}

// bg is the context of the operations: a bench operation waits as long as
// the server takes (the bench script bounds the whole run).
var bg = context.Background()

func (w *wireConn) mkdir(name string) error { return w.c.Mkdir(bg, name) }

// openDo opens name, runs do on the open (when not nil) and closes it.
func (w *wireConn) openDo(name string, req smbwire.CreateRequest, do func(f smb2.FileID) error) error {
	f, err := w.c.Create(bg, name, req)
	if err != nil {
		return err
	}
	if do != nil {
		err = do(f)
	}
	if cerr := w.c.CloseFile(bg, f); err == nil {
		err = cerr
	}
	return err
}

func (w *wireConn) create(name string) error { return w.openDo(name, createReq, nil) }
func (w *wireConn) stat(name string) error   { return w.openDo(name, statReq, nil) }

func (w *wireConn) list(dir string) (n int, err error) {
	err = w.openDo(dir, openReq, func(f smb2.FileID) error {
		n, err = w.c.CountDir(bg, f)
		return err
	})
	return n, err
}

func (w *wireConn) rename(from, to string) error {
	return w.openDo(from, renameReq, func(f smb2.FileID) error { return w.c.Rename(bg, f, to, false) })
}

func (w *wireConn) remove(name string) error {
	return w.openDo(name, removeReq, func(f smb2.FileID) error { return w.c.SetDeletePending(bg, f, true) })
}

func (w *wireConn) close() { w.c.Close() }
