package rpc

// netdfs is the DFS namespace management interface (MS-DFSNM). cifsd's
// namespaces are standalone roots configured on the server (smb.Share's
// DFSRoot and DFSLinks, smb.conf's "msdfs root"), not managed over RPC:
// the interface answers the version, as Samba's does, and nothing else
// (other opnums fault with nca_op_rng_error). Clients resolve DFS paths
// with referrals over SMB (FSCTL_DFS_GET_REFERRALS), not through netdfs.
var netdfsInterface = &Interface{
	Name:  "netdfs",
	uuid:  mustUUID("4fc742e0-4a10-11cf-8273-00aa004ae673"),
	major: 3,
	ops: map[uint16]opFunc{
		0: (*call).dfsManagerGetVersion,
	},
}

// dfsManagerVersionNT4 is DFS_MANAGER_VERSION_NT4: standalone namespaces
// (MS-DFSNM 3.1.4.1.2).
const dfsManagerVersionNT4 = 1

// dfsManagerGetVersion answers NetrDfsManagerGetVersion (MS-DFSNM
// 3.1.4.1.2): no parameters, the version as the return value.
func (c *call) dfsManagerGetVersion() ([]byte, uint32) {
	w := &writer{}
	w.u32(dfsManagerVersionNT4)
	return w.b, 0
}
