package smb2

// Leases (MS-SMB2 2.2.13.2.8, 2.2.13.2.10, 2.2.14.2.10, 2.2.14.2.11).

// Lease states (MS-SMB2 2.2.13.2.8 LeaseState).
const (
	LeaseNone          uint32 = 0x00
	LeaseReadCaching   uint32 = 0x01
	LeaseHandleCaching uint32 = 0x02
	LeaseWriteCaching  uint32 = 0x04
)

// Lease flags (MS-SMB2 2.2.13.2.10, 2.2.14.2.10 LeaseFlags).
const (
	LeaseFlagBreakInProgress   uint32 = 0x02
	LeaseFlagParentLeaseKeySet uint32 = 0x04
)

// NotifyBreakLeaseFlagAckRequired is the LEASE_BREAK notification's flag
// asking for an acknowledgement (MS-SMB2 2.2.23.2).
const NotifyBreakLeaseFlagAckRequired uint32 = 0x01

// Lease context lengths: version 1 (2.2.13.2.8) and version 2 (2.2.13.2.10).
const (
	leaseV1Size = 32
	leaseV2Size = 52
)

// Lease is the SMB2_CREATE_REQUEST_LEASE(_V2) context and the
// SMB2_CREATE_RESPONSE_LEASE(_V2) context: both versions share the name
// "RqLs" and are told apart by their length.
type Lease struct {
	Key            [16]byte
	State          uint32
	Flags          uint32
	Duration       uint64
	V2             bool
	ParentLeaseKey [16]byte // V2 only
	Epoch          uint16   // V2 only
}

// DecodeLease reads a lease create context's data. A context that is
// neither 32 nor 52 bytes long (at least) is malformed.
func DecodeLease(d []byte) (Lease, error) {
	var l Lease
	if len(d) < leaseV1Size {
		return l, malformed("lease context length")
	}
	copy(l.Key[:], d[:16])
	l.State = le.Uint32(d[16:])
	l.Flags = le.Uint32(d[20:])
	l.Duration = le.Uint64(d[24:])
	if len(d) >= leaseV2Size {
		l.V2 = true
		copy(l.ParentLeaseKey[:], d[32:48])
		l.Epoch = le.Uint16(d[48:])
	}
	return l, nil
}

// Context encodes l as a response create context: version 2 when l.V2.
func (l Lease) Context() CreateContext {
	n := leaseV1Size
	if l.V2 {
		n = leaseV2Size
	}
	d := make([]byte, n)
	copy(d, l.Key[:])
	le.PutUint32(d[16:], l.State)
	le.PutUint32(d[20:], l.Flags)
	le.PutUint64(d[24:], l.Duration)
	if l.V2 {
		copy(d[32:48], l.ParentLeaseKey[:])
		le.PutUint16(d[48:], l.Epoch)
	}
	return CreateContext{Name: CreateRequestLease, Data: d}
}
