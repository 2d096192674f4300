package smb

import (
	"context"
	"errors"
	"io/fs"
	"runtime/debug"
	"syscall"

	"github.com/cifsd/cifsd/smb2"
)

// statusOf maps an error from a backend or a layer to the NT status Windows
// answers with for the same condition (MS-ERREF 2.3, MS-FSA).
func statusOf(err error) smb2.Status {
	if err == nil {
		return smb2.StatusSuccess
	}
	var st smb2.Status
	if errors.As(err, &st) {
		return st
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return smb2.StatusObjectNameNotFound
	case errors.Is(err, fs.ErrExist):
		return smb2.StatusObjectNameCollision
	case errors.Is(err, fs.ErrPermission):
		return smb2.StatusAccessDenied
	case errors.Is(err, syscall.ENOTEMPTY):
		return smb2.StatusDirectoryNotEmpty
	case errors.Is(err, syscall.EISDIR):
		return smb2.StatusFileIsADirectory
	case errors.Is(err, syscall.ENOTDIR):
		return smb2.StatusObjectPathNotFound
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return smb2.StatusDiskFull
	case errors.Is(err, syscall.EROFS):
		return smb2.StatusMediaWriteProtected
	case errors.Is(err, syscall.ENAMETOOLONG), errors.Is(err, fs.ErrInvalid):
		return smb2.StatusObjectNameInvalid
	case errors.Is(err, syscall.EXDEV):
		return smb2.StatusNotSameDevice
	case errors.Is(err, context.Canceled):
		return smb2.StatusCancelled
	case errors.Is(err, errors.ErrUnsupported):
		return smb2.StatusNotSupported
	}
	return smb2.StatusUnexpectedIOError
}

func stack() string { return string(debug.Stack()) }
