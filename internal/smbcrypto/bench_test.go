package smbcrypto

import (
	"fmt"
	"testing"
)

var sigNames = map[uint16]string{SigningHMACSHA256: "HMAC-SHA256", SigningAESCMAC: "AES-CMAC", SigningAESGMAC: "AES-GMAC"}
var cipherNames = map[uint16]string{AES128CCM: "AES-128-CCM", AES128GCM: "AES-128-GCM", AES256CCM: "AES-256-CCM", AES256GCM: "AES-256-GCM"}

const benchSize = 1 << 20

func BenchmarkSign(b *testing.B) {
	for _, alg := range []uint16{SigningHMACSHA256, SigningAESCMAC, SigningAESGMAC} {
		s, _ := NewSigner(alg, make([]byte, 16))
		m := testMsg(8, 1, 1, benchSize-64)
		b.Run(sigNames[alg], func(b *testing.B) {
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for b.Loop() {
				s.Sign(m)
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, alg := range []uint16{SigningHMACSHA256, SigningAESCMAC, SigningAESGMAC} {
		s, _ := NewSigner(alg, make([]byte, 16))
		m := testMsg(8, 1, 1, benchSize-64)
		s.Sign(m)
		b.Run(sigNames[alg], func(b *testing.B) {
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for b.Loop() {
				if !s.Verify(m) {
					b.Fatal("verify")
				}
			}
		})
	}
}

func BenchmarkEncrypt(b *testing.B) {
	for _, id := range allCiphers {
		c, _ := NewCipher(id, keyFor(id))
		buf := make([]byte, TransformHeaderSize+benchSize, TransformHeaderSize+benchSize+16)
		b.Run(cipherNames[id], func(b *testing.B) {
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Encrypt(buf[52:], buf[:52], buf[52:]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecrypt(b *testing.B) {
	for _, id := range allCiphers {
		c, _ := NewCipher(id, keyFor(id))
		buf := make([]byte, TransformHeaderSize+benchSize, TransformHeaderSize+benchSize+16)
		b.Run(cipherNames[id], func(b *testing.B) {
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for b.Loop() {
				// Decrypt works in place, so re-encrypt outside the timer.
				b.StopTimer()
				if err := c.Encrypt(buf[52:], buf[:52], buf[52:]); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, err := c.Decrypt(buf); err != nil {
					b.Fatal(fmt.Sprint(err))
				}
			}
		})
	}
}
