package smb

import (
	"github.com/cifsd/cifsd/internal/smbcrypto"
	"github.com/cifsd/cifsd/smb2"
)

// maxNotifyFrame is the largest frame that can hold a lone CHANGE_NOTIFY:
// header, 32-byte body and a transform header.
const maxNotifyFrame = smb2.HeaderSize + 32 + smbcrypto.TransformHeaderSize

// keepsOrder reports whether a frame of frameLen bytes whose (first)
// header is h is a lone CHANGE_NOTIFY, which the reading goroutine serves
// itself before it reads the next frame (frames are otherwise served
// concurrently). The handler never blocks: it answers from the buffered
// changes or goes async at once. Serving it in order keeps what a client
// sends after it (a second CHANGE_NOTIFY on the handle, a CLOSE) from
// overtaking it, as MS-SMB2 3.3.5.19 assumes: the first request takes the
// buffered changes (smb2.notify.double), and a CLOSE finds the request to
// end with STATUS_NOTIFY_CLEANUP (smb2.notify.dir).
func keepsOrder(h *smb2.Header, frameLen int) bool {
	return frameLen <= maxNotifyFrame && h.Command == smb2.ChangeNotify && h.NextCommand == 0
}
