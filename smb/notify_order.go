package smb

import (
	"github.com/cifsd/cifsd/internal/smbcrypto"
	"github.com/cifsd/cifsd/smb2"
)

// maxNotifyFrame is the largest frame that can hold a lone CHANGE_NOTIFY:
// header, 32-byte body and a transform header.
const maxNotifyFrame = smb2.HeaderSize + 32 + smbcrypto.TransformHeaderSize

// keepsOrder reports whether frame is a lone CHANGE_NOTIFY, which the
// reading goroutine serves itself before it reads the next frame (frames are
// otherwise served concurrently). The handler never blocks: it answers from
// the buffered changes or goes async at once. Serving it in order keeps what
// a client sends after it (a second CHANGE_NOTIFY on the handle, a CLOSE)
// from overtaking it, as MS-SMB2 3.3.5.19 assumes: the first request takes
// the buffered changes (smb2.notify.double), and a CLOSE finds the request
// to end with STATUS_NOTIFY_CLEANUP (smb2.notify.dir).
func (c *conn) keepsOrder(frame []byte) bool {
	if len(frame) > maxNotifyFrame {
		return false
	}
	msg := frame
	if len(frame) >= 4 && [4]byte(frame[:4]) == smbcrypto.TransformProtocolID {
		// Peek at a decrypted copy; the frame is decrypted again when it
		// is served, which is cheap for a frame this small.
		var buf [maxNotifyFrame]byte
		_, plain, err := c.decrypt(buf[:copy(buf[:], frame)])
		if err != nil {
			return false
		}
		msg = plain
	}
	var h smb2.Header
	return h.Decode(msg) == nil && h.Command == smb2.ChangeNotify && h.NextCommand == 0 && !h.IsResponse()
}
