package mdns

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// The DNS message codec (RFC 1035 4.1) for what a DNS-SD responder needs:
// questions, and records of the types A, AAAA, PTR, SRV (RFC 2782) and
// TXT; other types are kept as raw data. The decoder reads client bytes:
// it checks every length against what is left, follows a compression
// pointer only backwards and at most maxPointers times, and bounds a
// name to 255 bytes, so no input makes it panic, loop or allocate more
// than a small multiple of the message.

// Record types and classes (RFC 1035 3.2.2, RFC 3596, RFC 2782).
const (
	TypeA    uint16 = 1
	TypePTR  uint16 = 12
	TypeTXT  uint16 = 16
	TypeAAAA uint16 = 28
	TypeSRV  uint16 = 33
	TypeANY  uint16 = 255

	ClassINET uint16 = 1
	// classMask takes away mDNS's top bit of the class: the unicast-
	// response bit in a question, the cache-flush bit in a record
	// (RFC 6762 5.4, 10.2).
	classMask     uint16 = 0x7FFF
	cacheFlushBit uint16 = 0x8000
	unicastBit    uint16 = 0x8000
)

// Header flags (RFC 1035 4.1.1).
const (
	flagResponse      uint16 = 0x8000
	flagAuthoritative uint16 = 0x0400
	opcodeMask        uint16 = 0x7800
)

// maxName is the longest name in its wire form (RFC 1035 2.3.4).
const maxName = 255

// maxPointers bounds the compression pointers followed in one name.
const maxPointers = 32

// Message is a DNS message.
type Message struct {
	ID    uint16
	Flags uint16
	// Questions, Answers, Authorities and Additionals are the message's
	// four sections.
	Questions   []Question
	Answers     []Record
	Authorities []Record
	Additionals []Record
}

// Question is one entry of the question section.
type Question struct {
	Name  string // dot-separated, without the final dot
	Type  uint16
	Class uint16 // with the unicast-response bit (RFC 6762 5.4)
}

// Record is a resource record. The fields that apply to its Type are set.
type Record struct {
	Name  string
	Type  uint16
	Class uint16 // with the cache-flush bit (RFC 6762 10.2)
	TTL   uint32

	Target   string     // PTR: the name pointed at; SRV: the host
	Priority uint16     // SRV
	Weight   uint16     // SRV
	Port     uint16     // SRV
	Text     []string   // TXT: the strings
	Addr     netip.Addr // A, AAAA
	Data     []byte     // any other type: the raw RDATA
}

// errShort reports a message that ends inside what it announced.
var errShort = errors.New("mdns: message truncated")

// Unpack decodes a DNS message.
func Unpack(b []byte) (*Message, error) {
	if len(b) < 12 {
		return nil, errShort
	}
	m := &Message{ID: binary.BigEndian.Uint16(b), Flags: binary.BigEndian.Uint16(b[2:])}
	var counts [4]int
	total := 0
	for i := range counts {
		counts[i] = int(binary.BigEndian.Uint16(b[4+2*i:]))
		total += counts[i]
	}
	// A question takes at least 5 bytes and a record 11: counts beyond
	// that are lies, and must not size an allocation.
	if counts[0]*5+(total-counts[0])*11 > len(b)-12 {
		return nil, errShort
	}
	off := 12
	m.Questions = make([]Question, 0, counts[0])
	for range counts[0] {
		name, n, err := readName(b, off)
		if err != nil {
			return nil, err
		}
		off = n
		if len(b)-off < 4 {
			return nil, errShort
		}
		m.Questions = append(m.Questions, Question{Name: name,
			Type: binary.BigEndian.Uint16(b[off:]), Class: binary.BigEndian.Uint16(b[off+2:])})
		off += 4
	}
	for i, sec := range []*[]Record{&m.Answers, &m.Authorities, &m.Additionals} {
		*sec = make([]Record, 0, counts[i+1])
		for range counts[i+1] {
			r, n, err := readRecord(b, off)
			if err != nil {
				return nil, err
			}
			off = n
			*sec = append(*sec, r)
		}
	}
	return m, nil
}

// readRecord decodes the record at off and returns the offset after it.
func readRecord(b []byte, off int) (Record, int, error) {
	var r Record
	name, off, err := readName(b, off)
	if err != nil {
		return r, 0, err
	}
	if len(b)-off < 10 {
		return r, 0, errShort
	}
	r.Name = name
	r.Type = binary.BigEndian.Uint16(b[off:])
	r.Class = binary.BigEndian.Uint16(b[off+2:])
	r.TTL = binary.BigEndian.Uint32(b[off+4:])
	size := int(binary.BigEndian.Uint16(b[off+8:]))
	off += 10
	if len(b)-off < size {
		return r, 0, errShort
	}
	data, end := b[off:off+size], off+size
	switch r.Type {
	case TypeA, TypeAAAA:
		addr, ok := netip.AddrFromSlice(data)
		if !ok || (r.Type == TypeA) != addr.Is4() {
			return r, 0, fmt.Errorf("mdns: address record of %d bytes", size)
		}
		r.Addr = addr
	case TypePTR:
		t, n, err := readName(b, off)
		if err != nil {
			return r, 0, err
		}
		if n > end {
			return r, 0, errors.New("mdns: PTR name overruns its record")
		}
		r.Target = t
	case TypeSRV:
		if size < 7 {
			return r, 0, errShort
		}
		r.Priority = binary.BigEndian.Uint16(data)
		r.Weight = binary.BigEndian.Uint16(data[2:])
		r.Port = binary.BigEndian.Uint16(data[4:])
		t, n, err := readName(b, off+6)
		if err != nil {
			return r, 0, err
		}
		if n > end {
			return r, 0, errors.New("mdns: SRV target overruns its record")
		}
		r.Target = t
	case TypeTXT:
		for p := 0; p < len(data); {
			l := int(data[p])
			p++
			if len(data)-p < l {
				return r, 0, errShort
			}
			r.Text = append(r.Text, string(data[p:p+l]))
			p += l
		}
	default:
		r.Data = append([]byte(nil), data...)
	}
	return r, end, nil
}

// readName decodes the (possibly compressed) name at off and returns it
// and the offset after it where it began.
func readName(b []byte, off int) (string, int, error) {
	var sb strings.Builder
	wire := 0 // the name's length in wire form
	next := -1
	pointers := 0
	for {
		if off >= len(b) {
			return "", 0, errShort
		}
		l := int(b[off])
		switch l & 0xC0 {
		case 0x00:
		case 0xC0:
			if off+1 >= len(b) {
				return "", 0, errShort
			}
			ptr := int(binary.BigEndian.Uint16(b[off:]) & 0x3FFF)
			if ptr >= off {
				// Only backwards (RFC 1035 4.1.4 points to a prior
				// occurrence), which with the count bounds the walk.
				return "", 0, errors.New("mdns: compression pointer does not point back")
			}
			if pointers++; pointers > maxPointers {
				return "", 0, errors.New("mdns: too many compression pointers")
			}
			if next < 0 {
				next = off + 2
			}
			off = ptr
			continue
		default:
			return "", 0, fmt.Errorf("mdns: label type %#x", l&0xC0)
		}
		off++
		if l == 0 {
			break
		}
		if wire += l + 1; wire > maxName {
			return "", 0, errors.New("mdns: name longer than 255 bytes")
		}
		if len(b)-off < l {
			return "", 0, errShort
		}
		if sb.Len() > 0 {
			sb.WriteByte('.')
		}
		sb.Write(b[off : off+l])
		off += l
	}
	if next < 0 {
		next = off
	}
	return sb.String(), next, nil
}

// Pack encodes m. Names are written in full (no compression): the
// messages a responder sends are small.
func (m *Message) Pack() ([]byte, error) {
	b := make([]byte, 12, 512)
	binary.BigEndian.PutUint16(b, m.ID)
	binary.BigEndian.PutUint16(b[2:], m.Flags)
	for i, n := range []int{len(m.Questions), len(m.Answers), len(m.Authorities), len(m.Additionals)} {
		if n > 0xFFFF {
			return nil, errors.New("mdns: too many entries in a section")
		}
		binary.BigEndian.PutUint16(b[4+2*i:], uint16(n))
	}
	var err error
	for _, q := range m.Questions {
		if b, err = appendName(b, q.Name); err != nil {
			return nil, err
		}
		b = binary.BigEndian.AppendUint16(b, q.Type)
		b = binary.BigEndian.AppendUint16(b, q.Class)
	}
	for _, sec := range [][]Record{m.Answers, m.Authorities, m.Additionals} {
		for i := range sec {
			if b, err = appendRecord(b, &sec[i]); err != nil {
				return nil, err
			}
		}
	}
	return b, nil
}

func appendRecord(b []byte, r *Record) ([]byte, error) {
	b, err := appendName(b, r.Name)
	if err != nil {
		return nil, err
	}
	b = binary.BigEndian.AppendUint16(b, r.Type)
	b = binary.BigEndian.AppendUint16(b, r.Class)
	b = binary.BigEndian.AppendUint32(b, r.TTL)
	at := len(b)
	b = append(b, 0, 0) // RDLENGTH, set below
	switch r.Type {
	case TypeA, TypeAAAA:
		if (r.Type == TypeA) != r.Addr.Is4() {
			return nil, fmt.Errorf("mdns: %v in a record of type %d", r.Addr, r.Type)
		}
		b = append(b, r.Addr.AsSlice()...)
	case TypePTR:
		if b, err = appendName(b, r.Target); err != nil {
			return nil, err
		}
	case TypeSRV:
		b = binary.BigEndian.AppendUint16(b, r.Priority)
		b = binary.BigEndian.AppendUint16(b, r.Weight)
		b = binary.BigEndian.AppendUint16(b, r.Port)
		if b, err = appendName(b, r.Target); err != nil {
			return nil, err
		}
	case TypeTXT:
		if len(r.Text) == 0 {
			b = append(b, 0) // an empty TXT holds one empty string (RFC 6763 6.1)
		}
		for _, s := range r.Text {
			if len(s) > 255 {
				return nil, errors.New("mdns: TXT string longer than 255 bytes")
			}
			b = append(b, byte(len(s)))
			b = append(b, s...)
		}
	default:
		b = append(b, r.Data...)
	}
	size := len(b) - at - 2
	if size > 0xFFFF {
		return nil, errors.New("mdns: record data too long")
	}
	binary.BigEndian.PutUint16(b[at:], uint16(size))
	return b, nil
}

// appendName writes name as labels. An instance name may hold dots and
// spaces (RFC 6763 4.3): a label here is what lies between dots, so an
// instance label must not contain one.
func appendName(b []byte, name string) ([]byte, error) {
	name = strings.TrimSuffix(name, ".")
	wire := 1
	if name != "" {
		for _, l := range strings.Split(name, ".") {
			if l == "" || len(l) > 63 {
				return nil, fmt.Errorf("mdns: bad label in %q", name)
			}
			wire += len(l) + 1
			b = append(b, byte(len(l)))
			b = append(b, l...)
		}
	}
	if wire > maxName {
		return nil, fmt.Errorf("mdns: name %q too long", name)
	}
	return append(b, 0), nil
}
