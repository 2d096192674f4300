package ntlm

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/internal/utf16le"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// The NTLMv2 example of MS-NLMP 4.2.4.
func TestNTLMv2Vectors(t *testing.T) {
	owf := hmacMD5(NTHash("Password"), utf16le.Encode("USER"+"Domain"))
	if want := unhex("0c868a403bfd7a93a3001ef22ef02e3f"); !bytes.Equal(owf, want) {
		t.Fatalf("NTOWFv2 %x, want %x", owf, want)
	}
	avPairs := unhex("02000c0044006f006d00610069006e0001000c005300650072007600650072000000000000000000")
	blob := append(unhex("0101000000000000"+"0000000000000000"+"aaaaaaaaaaaaaaaa"+"00000000"), avPairs...)
	proof := hmacMD5(owf, unhex("0123456789abcdef"), blob)
	if want := unhex("68cd0ab851e51c96aabc927bebef6a1c"); !bytes.Equal(proof, want) {
		t.Fatalf("NTProofStr %x, want %x", proof, want)
	}
	if got, want := hmacMD5(owf, proof), unhex("8de40ccadbc14a82f15cb0ad0de95ca3"); !bytes.Equal(got, want) {
		t.Fatalf("SessionBaseKey %x, want %x", got, want)
	}
}

// testClient plays an NTLMv2 client against a server context.
func handshake(t *testing.T, m *Mechanism, user, domain, password string) (*auth.Result, error) {
	t.Helper()
	ctx := context.Background()
	sc, _ := m.Start(ctx)
	neg := make([]byte, 32)
	copy(neg, Signature)
	binary.LittleEndian.PutUint32(neg[8:], 1)
	binary.LittleEndian.PutUint32(neg[12:], flagUnicode|flagNTLM|flagSign|flagESS|flag128|flagKeyExch|flagTargetInfo)
	chal, done, err := sc.Accept(ctx, neg)
	if err != nil || done {
		t.Fatalf("NEGOTIATE: %v %v", done, err)
	}
	serverChal := chal[24:32]
	ti, err := field(chal, 40)
	if err != nil {
		t.Fatal(err)
	}
	owf := hmacMD5(NTHash(password), utf16le.Encode(toUpper(user)+domain))
	blob := append(unhex("0101000000000000"+"0000000000000000"+"1122334455667788"+"00000000"), ti...)
	blob = append(blob, 0, 0, 0, 0)
	proof := hmacMD5(owf, serverChal, blob)
	nt := append(proof, blob...)
	fields := [][]byte{make([]byte, 24), nt, utf16le.Encode(domain), utf16le.Encode(user), utf16le.Encode("WS"), nil}
	msg := make([]byte, 88)
	copy(msg, Signature)
	binary.LittleEndian.PutUint32(msg[8:], 3)
	off := len(msg)
	for i, f := range fields {
		putField(msg[12+8*i:], len(f), off)
		off += len(f)
		msg = append(msg, f...)
	}
	binary.LittleEndian.PutUint32(msg[60:], flagUnicode|flagNTLM|flagSign|flagESS|flag128)
	_, done, err = sc.Accept(ctx, msg)
	if err != nil {
		return nil, err
	}
	if !done {
		t.Fatal("not done after AUTHENTICATE")
	}
	return sc.Result(), nil
}

func toUpper(s string) string { return string(bytes.ToUpper([]byte(s))) }

func TestHandshake(t *testing.T) {
	m := Users(Passwords(map[string]string{"alice": "secret"}))
	res, err := handshake(t, m, "Alice", "WORKGROUP", "secret")
	if err != nil {
		t.Fatalf("valid logon refused: %v", err)
	}
	if res.User != "Alice" || res.Guest || len(res.SessionKey) != 16 {
		t.Fatalf("result %+v", res)
	}
	if _, err := handshake(t, m, "alice", "WORKGROUP", "wrong"); !errors.Is(err, auth.ErrLogonFailure) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := handshake(t, m, "bob", "", "secret"); !errors.Is(err, auth.ErrLogonFailure) {
		t.Fatalf("unknown user: %v", err)
	}
	m.AllowGuest = true
	if res, err := handshake(t, m, "bob", "", "x"); err != nil || !res.Guest {
		t.Fatalf("guest: %+v %v", res, err)
	}
	if _, err := handshake(t, m, "alice", "", "wrong"); err == nil {
		t.Fatal("wrong password of a known user admitted as guest")
	}
}

func FuzzAccept(f *testing.F) {
	f.Add([]byte("NTLMSSP\x00\x01\x00\x00\x00\x15\x82\x08\x62"))
	f.Add(append([]byte("NTLMSSP\x00\x03\x00\x00\x00"), make([]byte, 80)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		m := Users(Passwords(map[string]string{"a": "b"}))
		sc, _ := m.Start(context.Background())
		neg := append([]byte("NTLMSSP\x00\x01\x00\x00\x00"), 0x01, 0x02, 0, 0)
		sc.Accept(context.Background(), neg)
		sc.Accept(context.Background(), b)
	})
}
