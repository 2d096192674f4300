package vfs

import "context"

// SecurityDescriptor returns the descriptor stored for name (SDStore).
func (m *Mem) SecurityDescriptor(ctx context.Context, name string) ([]byte, error) {
	m.mu.RLock()
	n, err := m.lookup(name)
	m.mu.RUnlock()
	if err != nil {
		return nil, pathErr("getsd", name, err)
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.sd, nil
}

// SetSecurityDescriptor stores sd for name (SDStore).
func (m *Mem) SetSecurityDescriptor(ctx context.Context, name string, sd []byte) error {
	m.mu.RLock()
	n, err := m.lookup(name)
	m.mu.RUnlock()
	if err != nil {
		return pathErr("setsd", name, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sd = append([]byte(nil), sd...)
	return nil
}
