package smb

import (
	"strings"

	"github.com/cifsd/cifsd/fscc"
)

// The quota file. NTFS keeps a volume's quota entries in the index
// $Q of $Extend\$Quota, which a client opens to query and set quotas
// (MS-FSCC 2.4.36 FileQuotaInformation; SMB2_0_INFO_QUOTA). A share is a
// volume to its clients here, so the name opens at every share root: a
// handle on the root directory that shows the quota file's attributes.
// There are no quotas to list.

// quotaFileName is the quota index's path from the root of a volume.
const quotaFileName = `$Extend\$Quota:$Q:$INDEX_ALLOCATION`

// quotaFileAttributes are the quota file's attributes, as NTFS shows them.
const quotaFileAttributes = fscc.FileAttributeHidden | fscc.FileAttributeSystem |
	fscc.FileAttributeDirectory | fscc.FileAttributeArchive

// isQuotaFile reports whether a CREATE names the quota index.
func isQuotaFile(name string) bool {
	return strings.EqualFold(name, quotaFileName)
}

// quotaFileMeta is how the quota file shows in a CREATE response: no
// times, no data, the quota file's attributes.
func quotaFileMeta(m meta) meta {
	return meta{attrs: quotaFileAttributes, id: m.id}
}
