package smb2

import "fmt"

// Status is an NTSTATUS value (MS-ERREF 2.3).
type Status uint32

// The NT status codes cifsd returns (MS-ERREF 2.3.1).
const (
	StatusSuccess                          Status = 0x00000000
	StatusPending                          Status = 0x00000103
	StatusNotifyCleanup                    Status = 0x0000010B
	StatusNotifyEnumDir                    Status = 0x0000010C
	StatusBufferOverflow                   Status = 0x80000005
	StatusNoMoreFiles                      Status = 0x80000006
	StatusStoppedOnSymlink                 Status = 0x8000002D
	StatusUnsuccessful                     Status = 0xC0000001
	StatusNotImplemented                   Status = 0xC0000002
	StatusInvalidInfoClass                 Status = 0xC0000003
	StatusInfoLengthMismatch               Status = 0xC0000004
	StatusInvalidHandle                    Status = 0xC0000008
	StatusInvalidParameter                 Status = 0xC000000D
	StatusNoSuchDevice                     Status = 0xC000000E
	StatusNoSuchFile                       Status = 0xC000000F
	StatusInvalidDeviceRequest             Status = 0xC0000010
	StatusEndOfFile                        Status = 0xC0000011
	StatusMoreProcessingRequired           Status = 0xC0000016
	StatusNoMemory                         Status = 0xC0000017
	StatusAccessDenied                     Status = 0xC0000022
	StatusBufferTooSmall                   Status = 0xC0000023
	StatusObjectTypeMismatch               Status = 0xC0000024
	StatusObjectNameInvalid                Status = 0xC0000033
	StatusObjectNameNotFound               Status = 0xC0000034
	StatusObjectNameCollision              Status = 0xC0000035
	StatusObjectPathInvalid                Status = 0xC0000039
	StatusObjectPathNotFound               Status = 0xC000003A
	StatusObjectPathSyntaxBad              Status = 0xC000003B
	StatusSharingViolation                 Status = 0xC0000043
	StatusEAListInconsistent               Status = 0xC0000050
	StatusFileLockConflict                 Status = 0xC0000054
	StatusLockNotGranted                   Status = 0xC0000055
	StatusDeletePending                    Status = 0xC0000056
	StatusPrivilegeNotHeld                 Status = 0xC0000061
	StatusLogonFailure                     Status = 0xC000006D
	StatusAccountRestriction               Status = 0xC000006E
	StatusPasswordExpired                  Status = 0xC0000071
	StatusAccountDisabled                  Status = 0xC0000072
	StatusNoneMapped                       Status = 0xC0000073
	StatusRangeNotLocked                   Status = 0xC000007E
	StatusDiskFull                         Status = 0xC000007F
	StatusInsufficientResources            Status = 0xC000009A
	StatusFileInvalid                      Status = 0xC0000098
	StatusPipeNotAvailable                 Status = 0xC00000AC
	StatusInvalidPipeState                 Status = 0xC00000AD
	StatusPipeBusy                         Status = 0xC00000AE
	StatusIllegalFunction                  Status = 0xC00000AF
	StatusPipeDisconnected                 Status = 0xC00000B0
	StatusPipeClosing                      Status = 0xC00000B1
	StatusPipeEmpty                        Status = 0xC00000D9
	StatusFileIsADirectory                 Status = 0xC00000BA
	StatusNotSupported                     Status = 0xC00000BB
	StatusNetworkNameDeleted               Status = 0xC00000C9
	StatusNetworkAccessDenied              Status = 0xC00000CA
	StatusBadNetworkName                   Status = 0xC00000CC
	StatusRequestNotAccepted               Status = 0xC00000D0
	StatusRequestOutOfSequence             Status = 0xC000042A
	StatusInternalError                    Status = 0xC00000E5
	StatusUnexpectedIOError                Status = 0xC00000E9
	StatusDirectoryNotEmpty                Status = 0xC0000101
	StatusNotADirectory                    Status = 0xC0000103
	StatusBadLogonSessionState             Status = 0xC0000104
	StatusCancelled                        Status = 0xC0000120
	StatusCannotDelete                     Status = 0xC0000121
	StatusFileClosed                       Status = 0xC0000128
	StatusInvalidLevel                     Status = 0xC0000148
	StatusNotFound                         Status = 0xC0000225
	StatusInvalidDeviceState               Status = 0xC0000184
	StatusIOTimeout                        Status = 0xC00000B5
	StatusUserSessionDeleted               Status = 0xC0000203
	StatusNetworkSessionExpired            Status = 0xC000035C
	StatusTimeDifferenceAtDC               Status = 0xC0000133
	StatusRequestAborted                   Status = 0xC0000240
	StatusNotAReparsePoint                 Status = 0xC0000275
	StatusFileNotAvailable                 Status = 0xC0000467
	StatusSMBBadClusterDialect             Status = 0xC05D0001
	StatusMediaWriteProtected              Status = 0xC00000A2
	StatusTooManyOpenedFiles               Status = 0xC000011F
	StatusObjectNameExists                 Status = 0x40000000
	StatusNotAllAssigned                   Status = 0x00000106
	StatusRangeNotLockedOrConflict         Status = 0xC000007E
	StatusInvalidSID                       Status = 0xC0000078
	StatusInvalidSecurityDescr             Status = 0xC0000079
	StatusNoEasOnFile                      Status = 0xC0000052
	StatusEATooLarge                       Status = 0xC0000050
	StatusNonexistentEAEntry               Status = 0xC0000051
	StatusDuplicateObjectID                Status = 0xC000022A
	StatusNetworkNameUnavailable           Status = 0xC00000C8
	StatusInvalidNetworkResponse           Status = 0xC00000C3
	StatusUserMappedFile                   Status = 0xC0000243
	StatusNoSuchUser                       Status = 0xC0000064
	StatusWrongPassword                    Status = 0xC000006A
	StatusAccessDeniedSignature            Status = 0xC0000022 // same wire value as StatusAccessDenied
	StatusBadImpersonationLevel            Status = 0xC00000A5
	StatusIOReparseTagNotHandled           Status = 0xC0000279
	StatusInvalidUserBuffer                Status = 0xC00000E8
	StatusDataError                        Status = 0xC000003E
	StatusNoSuchLogonSession               Status = 0xC000005F
	StatusHandleNotClosable                Status = 0xC0000235
	StatusNotSameDevice                    Status = 0xC00000D4
	StatusFileRenamed                      Status = 0xC00000D5
	StatusRemoteNotListening               Status = 0xC00000BC
	StatusNotLocked                        Status = 0xC000002A
	StatusWrongVolume                      Status = 0xC0000012
	StatusInvalidViewSize                  Status = 0xC000001F
	StatusAlreadyCommitted                 Status = 0xC0000021
	StatusPortDisconnected                 Status = 0xC0000037
	StatusSMBNoPreauthIntegrityHashOverlap Status = 0xC05D0000
	StatusInvalidLockRange                 Status = 0xC00001A1
	StatusInvalidOplockProtocol            Status = 0xC00000E3
)

// IsError reports whether s has error severity (MS-ERREF 2.3: Sev == 3).
func (s Status) IsError() bool { return uint32(s)>>30 == 3 }

// Error makes a Status usable as a Go error.
func (s Status) Error() string { return s.String() }

func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("NTSTATUS(%#08x)", uint32(s))
}

var statusNames = map[Status]string{
	StatusSuccess:                "STATUS_SUCCESS",
	StatusPending:                "STATUS_PENDING",
	StatusBufferOverflow:         "STATUS_BUFFER_OVERFLOW",
	StatusNoMoreFiles:            "STATUS_NO_MORE_FILES",
	StatusInvalidHandle:          "STATUS_INVALID_HANDLE",
	StatusInvalidParameter:       "STATUS_INVALID_PARAMETER",
	StatusNoSuchFile:             "STATUS_NO_SUCH_FILE",
	StatusEndOfFile:              "STATUS_END_OF_FILE",
	StatusMoreProcessingRequired: "STATUS_MORE_PROCESSING_REQUIRED",
	StatusAccessDenied:           "STATUS_ACCESS_DENIED",
	StatusObjectNameNotFound:     "STATUS_OBJECT_NAME_NOT_FOUND",
	StatusObjectNameCollision:    "STATUS_OBJECT_NAME_COLLISION",
	StatusObjectPathNotFound:     "STATUS_OBJECT_PATH_NOT_FOUND",
	StatusSharingViolation:       "STATUS_SHARING_VIOLATION",
	StatusLogonFailure:           "STATUS_LOGON_FAILURE",
	StatusNotSupported:           "STATUS_NOT_SUPPORTED",
	StatusBadNetworkName:         "STATUS_BAD_NETWORK_NAME",
	StatusFileIsADirectory:       "STATUS_FILE_IS_A_DIRECTORY",
	StatusNotADirectory:          "STATUS_NOT_A_DIRECTORY",
	StatusDirectoryNotEmpty:      "STATUS_DIRECTORY_NOT_EMPTY",
	StatusCancelled:              "STATUS_CANCELLED",
	StatusFileClosed:             "STATUS_FILE_CLOSED",
	StatusUserSessionDeleted:     "STATUS_USER_SESSION_DELETED",
	StatusNetworkNameDeleted:     "STATUS_NETWORK_NAME_DELETED",
	StatusDeletePending:          "STATUS_DELETE_PENDING",
	StatusInvalidDeviceRequest:   "STATUS_INVALID_DEVICE_REQUEST",
	StatusInvalidInfoClass:       "STATUS_INVALID_INFO_CLASS",
	StatusInfoLengthMismatch:     "STATUS_INFO_LENGTH_MISMATCH",
	StatusObjectNameInvalid:      "STATUS_OBJECT_NAME_INVALID",
	StatusNotImplemented:         "STATUS_NOT_IMPLEMENTED",
	StatusNotFound:               "STATUS_NOT_FOUND",
	StatusFileLockConflict:       "STATUS_FILE_LOCK_CONFLICT",
	StatusLockNotGranted:         "STATUS_LOCK_NOT_GRANTED",
	StatusRangeNotLocked:         "STATUS_RANGE_NOT_LOCKED",
	StatusNetworkSessionExpired:  "STATUS_NETWORK_SESSION_EXPIRED",
	StatusInsufficientResources:  "STATUS_INSUFFICIENT_RESOURCES",
	StatusMediaWriteProtected:    "STATUS_MEDIA_WRITE_PROTECTED",
	StatusCannotDelete:           "STATUS_CANNOT_DELETE",
	StatusBufferTooSmall:         "STATUS_BUFFER_TOO_SMALL",
	StatusNotifyEnumDir:          "STATUS_NOTIFY_ENUM_DIR",
	StatusNotifyCleanup:          "STATUS_NOTIFY_CLEANUP",
	StatusPipeEmpty:              "STATUS_PIPE_EMPTY",
	StatusPipeDisconnected:       "STATUS_PIPE_DISCONNECTED",
	StatusDiskFull:               "STATUS_DISK_FULL",
	StatusTimeDifferenceAtDC:     "STATUS_TIME_DIFFERENCE_AT_DC",
	StatusRequestNotAccepted:     "STATUS_REQUEST_NOT_ACCEPTED",
	StatusRequestOutOfSequence:   "STATUS_REQUEST_OUT_OF_SEQUENCE",
	StatusObjectPathSyntaxBad:    "STATUS_OBJECT_PATH_SYNTAX_BAD",
	StatusObjectPathInvalid:      "STATUS_OBJECT_PATH_INVALID",
	StatusInternalError:          "STATUS_INTERNAL_ERROR",
	StatusNotAReparsePoint:       "STATUS_NOT_A_REPARSE_POINT",
	StatusNoEasOnFile:            "STATUS_NO_EAS_ON_FILE",
	StatusEAListInconsistent:     "STATUS_EA_LIST_INCONSISTENT",
}
