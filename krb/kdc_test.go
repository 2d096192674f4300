package krb_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	gosmb2 "github.com/cloudsoda/go-smb2"
	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/spnego"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/krb"
)

// realKDC is the realm scripts/kdc.sh started; the tests using it skip
// unless the interop run (test/interop/kerberos.sh) set the environment.
type realKDC struct {
	cl              *client.Client
	host, otherHost string
	keytab          string
}

func needKDC(t *testing.T) *realKDC {
	t.Helper()
	if os.Getenv("KDC_KEYTAB") == "" || os.Getenv("KRB5_CONFIG") == "" {
		t.Skip("no KDC: run through test/interop/kerberos.sh (make interop)")
	}
	cfg, err := config.Load(os.Getenv("KRB5_CONFIG"))
	if err != nil {
		t.Fatal(err)
	}
	cl := client.NewWithPassword(os.Getenv("SMB_USER"), os.Getenv("KDC_REALM"), os.Getenv("SMB_PASS"), cfg,
		client.DisablePAFXFAST(true))
	if err := cl.Login(); err != nil {
		t.Fatalf("kinit against the test KDC: %v", err)
	}
	t.Cleanup(cl.Destroy)
	return &realKDC{cl: cl, host: os.Getenv("KDC_HOST"), otherHost: os.Getenv("KDC_OTHER_HOST"), keytab: os.Getenv("KDC_KEYTAB")}
}

// apReq asks the KDC for a ticket to cifs/HOST and returns the GSS token a
// client sends in SESSION_SETUP.
func (k *realKDC) apReq(t *testing.T, host string) []byte {
	t.Helper()
	tkt, key, err := k.cl.GetServiceTicket("cifs/" + host)
	if err != nil {
		t.Fatalf("service ticket for cifs/%s: %v", host, err)
	}
	tok, err := spnego.NewKRB5TokenAPREQ(k.cl, tkt, key, []int{gssapi.ContextFlagMutual}, []int{flags.APOptionMutualRequired})
	if err != nil {
		t.Fatal(err)
	}
	b, err := tok.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (k *realKDC) mech(t *testing.T) *krb.Mechanism {
	t.Helper()
	kt, err := krb.LoadKeytab(k.keytab)
	if err != nil {
		t.Fatal(err)
	}
	return krb.New(kt)
}

func acceptOnce(m *krb.Mechanism, tok []byte) (*auth.Result, error) {
	c, _ := m.Start(context.Background())
	if _, _, err := c.Accept(context.Background(), tok); err != nil {
		return nil, err
	}
	return c.Result(), nil
}

// TestRealKDCTickets: tickets from MIT's KDC (with the PAC it adds) are
// accepted; replayed, expired and other services' tickets are not.
func TestRealKDCTickets(t *testing.T) {
	k := needKDC(t)
	m := k.mech(t)
	var pac *krb.PAC
	m.Map = func(ctx context.Context, p krb.Principal, pc *krb.PAC) (auth.Identity, error) {
		pac = pc
		return krb.DefaultMapper(ctx, p, pc)
	}
	tok := k.apReq(t, k.host)
	res, err := acceptOnce(m, tok)
	if err != nil {
		t.Fatalf("ticket from the KDC refused: %v", err)
	}
	if res.User != os.Getenv("SMB_USER") || res.Domain != os.Getenv("KDC_REALM") || len(res.SessionKey) < 16 {
		t.Fatalf("result %q@%q with a %d-byte key", res.User, res.Domain, len(res.SessionKey))
	}
	if pac == nil {
		t.Fatal("MIT's KDC puts a PAC in tickets; none was found and verified")
	}
	if _, err := acceptOnce(m, tok); !errors.Is(err, auth.ErrLogonFailure) {
		t.Fatalf("replayed AP-REQ: got %v, want a logon failure", err)
	}
	// The ticket lasts 10 hours: eleven hours on, it has expired.
	late := k.mech(t)
	late.Now = func() time.Time { return time.Now().Add(11 * time.Hour) }
	if _, err := acceptOnce(late, k.apReq(t, k.host)); !errors.Is(err, auth.ErrLogonFailure) {
		t.Fatalf("expired ticket: got %v, want a logon failure", err)
	}
	if _, err := acceptOnce(m, k.apReq(t, k.otherHost)); !errors.Is(err, auth.ErrLogonFailure) {
		t.Fatalf("ticket for cifs/%s: got %v, want a logon failure", k.otherHost, err)
	}
}

// TestRealKDCGoClient: a Go SMB client authenticates to the running cifsd
// with Kerberos and round-trips a file.
func TestRealKDCGoClient(t *testing.T) {
	k := needKDC(t)
	port := os.Getenv("SMB_PORT")
	if port == "" {
		t.Skip("no SMB_PORT")
	}
	d := &gosmb2.Dialer{Initiator: &gosmb2.Krb5Initiator{Client: k.cl, TargetSPN: "cifs/" + k.host}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := d.Dial(ctx, "127.0.0.1:"+port)
	if err != nil {
		t.Fatalf("Kerberos session with cifsd: %v", err)
	}
	defer s.Logoff()
	fs, err := s.Mount(`\\` + k.host + `\` + os.Getenv("SMB_SHARE"))
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Umount()
	want := make([]byte, 1<<20)
	rand.Read(want)
	name := "krb-go-client.bin"
	if err := fs.WriteFile(name, want, 0o644); err != nil {
		t.Fatal(err)
	}
	defer fs.Remove(name)
	f, err := fs.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f)
	f.Close()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read back %d bytes (err %v), want the %d written", len(got), err, len(want))
	}
}
