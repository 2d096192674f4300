package smb_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"runtime/metrics"
	"syscall"
	"testing"
	"time"

	gosmb2 "github.com/hirochachacha/go-smb2"

	"github.com/cifsd/cifsd/internal/smbwire"
	"github.com/cifsd/cifsd/smb/smbtest"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// The per-request cost of the connection path, client and server in one
// process over loopback TCP: with -benchmem the allocations per request
// (the client's too), and goroutines/op the goroutines created per
// request, both sides together (the raw ECHO client creates none).
//
//	go test ./smb/ -run '^$' -bench 'Request' -benchmem

// goroutinesCreated reads the runtime's count of goroutines created.
func goroutinesCreated() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// processCPU is the CPU time (user + system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportGoroutines runs f b.N times and reports per iteration the
// goroutines it created and the process's CPU time (cpu-ns/op: on a busy
// machine steadier than ns/op, the wall time).
func reportGoroutines(b *testing.B, f func()) {
	b.Helper()
	b.ReportAllocs()
	g0, cpu0 := goroutinesCreated(), processCPU()
	b.ResetTimer()
	for b.Loop() {
		f()
	}
	b.StopTimer()
	b.ReportMetric(float64(goroutinesCreated()-g0)/float64(b.N), "goroutines/op")
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkRequestEcho: one ECHO at a time after a 2.0.2 NEGOTIATE, as
// smbtorture smb2.bench.echo sends them, unsigned and without a session.
func BenchmarkRequestEcho(b *testing.B) {
	ts := smbtest.NewServer()
	defer ts.Close()
	c, err := net.Dial("tcp", ts.Addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	mid := uint64(0)
	var hdr [4]byte
	buf := make([]byte, 4+smb2.HeaderSize+36+2)
	resp := make([]byte, 512)
	roundTrip := func(cmd smb2.Command, body []byte) smb2.Header {
		msg := buf[:4+smb2.HeaderSize+len(body)]
		binary.BigEndian.PutUint32(msg, uint32(len(msg)-4))
		h := smb2.Header{Command: cmd, Credits: 1, CreditCharge: 1, MessageID: mid}
		mid++
		h.Encode(msg[4:])
		copy(msg[4+smb2.HeaderSize:], body)
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			b.Fatal(err)
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if int(n) > len(resp) {
			resp = make([]byte, n)
		}
		if _, err := io.ReadFull(c, resp[:n]); err != nil {
			b.Fatal(err)
		}
		var rh smb2.Header
		if err := rh.Decode(resp[:n]); err != nil {
			b.Fatal(err)
		}
		return rh
	}
	neg := make([]byte, 38) // MS-SMB2 2.2.3: one dialect, 2.0.2
	binary.LittleEndian.PutUint16(neg[0:], 36)
	binary.LittleEndian.PutUint16(neg[2:], 1)
	binary.LittleEndian.PutUint16(neg[4:], 1) // signing enabled
	binary.LittleEndian.PutUint16(neg[36:], 0x0202)
	if h := roundTrip(smb2.Negotiate, neg); h.Status != 0 {
		b.Fatalf("NEGOTIATE: status %#x", h.Status)
	}
	echo := []byte{4, 0, 0, 0} // MS-SMB2 2.2.28
	reportGoroutines(b, func() {
		if h := roundTrip(smb2.Echo, echo); h.Status != 0 {
			b.Fatalf("ECHO: status %#x", h.Status)
		}
	})
}

// BenchmarkRequestStat: stat of a file (CREATE for FILE_READ_ATTRIBUTES,
// QUERY_INFO, CLOSE, as cmd/smbbench's stat phase), one at a time, from a
// go-smb2 client (its allocations and goroutines are counted too).
func BenchmarkRequestStat(b *testing.B) {
	ts := smbtest.NewServer()
	defer ts.Close()
	c, err := net.Dial("tcp", ts.Addr)
	if err != nil {
		b.Fatal(err)
	}
	d := &gosmb2.Dialer{Initiator: &gosmb2.NTLMInitiator{User: ts.User, Password: ts.Password}}
	s, err := d.Dial(c)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Logoff()
	sh, err := s.Mount(ts.Share)
	if err != nil {
		b.Fatal(err)
	}
	defer sh.Umount()
	for i := range 16 {
		if err := sh.WriteFile(fmt.Sprintf("f%02d", i), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	reportGoroutines(b, func() {
		if _, err := sh.Stat(fmt.Sprintf("f%02d", i%16)); err != nil {
			b.Fatal(err)
		}
		i++
	})
}

// BenchmarkRequestStatWire: the same stat (CREATE for FILE_READ_ATTRIBUTES,
// then CLOSE: cmd/smbbench's stat phase) from internal/smbwire's inline
// client, which allocates nothing per request: allocs/op and B/op are the
// server's alone, on the in-memory and the directory backend.
func BenchmarkRequestStatWire(b *testing.B) {
	for _, backend := range []string{"mem", "dir"} {
		b.Run(backend, func(b *testing.B) {
			ts := smbtest.NewUnstartedServer()
			if backend == "dir" {
				fsys, err := vfs.Dir(b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				ts.FS = fsys
				ts.Config.Shares[0].FS = fsys
			}
			ts.Start()
			defer ts.Close()
			ctx := context.Background()
			c, err := smbwire.Dial(ctx, ts.Addr, ts.Share, ts.User, ts.Password, smbwire.Options{Inline: true, Dialect: smb2.Dialect311})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			names := make([]string, 16)
			for i := range names {
				names[i] = fmt.Sprintf("f%02d", i)
				f, err := c.Create(ctx, names[i], smbwire.CreateRequest{Access: smb2.GenericWrite, Disposition: smb2.FileOverwriteIf})
				if err != nil {
					b.Fatal(err)
				}
				if err := c.CloseFile(ctx, f); err != nil {
					b.Fatal(err)
				}
			}
			stat := smbwire.CreateRequest{Access: smb2.FileReadAttributes, Share: smb2.FileShareRead | smb2.FileShareWrite, Disposition: smb2.FileOpen}
			i := 0
			reportGoroutines(b, func() {
				f, err := c.Create(ctx, names[i%len(names)], stat)
				if err != nil {
					b.Fatal(err)
				}
				if err := c.CloseFile(ctx, f); err != nil {
					b.Fatal(err)
				}
				i++
			})
		})
	}
}
