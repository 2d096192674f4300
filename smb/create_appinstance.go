package smb

// Application instance ids (MS-SMB2 3.3.5.9.13): a clustered application
// that moves to another node opens its files again with the same
// AppInstanceId from a client with another ClientGuid, and the server
// closes the old opens first, so that they neither block the new open
// with their share modes nor get a break.

// openClientGUID is the ClientGuid of the client that holds o: that of the
// connection that made it, or of the one that last reconnected it. The
// caller holds o.share.mu.
func (o *Open) openClientGUID() [16]byte {
	if o.durable != nil {
		return o.durable.clientGuid
	}
	return o.appClient
}

// closeAppInstanceLocked closes the opens of n (an open of the same path
// on the same share) made under app instance id by another client, as the
// server closes an open on its own (MS-SMB2 3.3.4.17). It returns what is
// left to do once sh.mu is released. The caller holds sh.mu.
func closeAppInstanceLocked(sh *shareState, n *fileNode, id, client [16]byte) []func() {
	if n == nil {
		return nil
	}
	var out []func()
	for _, o := range sh.store.AppInstanceOpensLocked(n, id, client) {
		rest := o.closeLocked()
		if rest == nil {
			continue
		}
		out = append(out, func() {
			o.session.removeOpen(o)
			rest()
			o.noteDirClosed()
		})
	}
	return out
}
