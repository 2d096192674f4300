package vfs

import (
	"context"
	"io/fs"
	"time"
)

// StreamInfo describes one named data stream of a file or directory.
type StreamInfo struct {
	Name string // without the ":$DATA" suffix
	Size int64
}

// Streamer is implemented by backends that store named data streams
// (MS-FSCC 2.1.5.1.1: "file:stream:$DATA"). Stream names compare
// case-insensitively.
type Streamer interface {
	// OpenStream opens the stream of name with flag (O_CREATE creates it;
	// the file or directory name must exist).
	OpenStream(ctx context.Context, name, stream string, flag int) (File, error)
	// Streams lists the named streams of name.
	Streams(ctx context.Context, name string) ([]StreamInfo, error)
	// RemoveStream deletes one stream.
	RemoveStream(ctx context.Context, name, stream string) error
}

// streamInfo is the FileInfo of an open stream: its own size, the times of
// the file it belongs to.
type streamInfo struct {
	name string
	size int64
	base fs.FileInfo
}

func (s *streamInfo) Name() string       { return s.name }
func (s *streamInfo) Size() int64        { return s.size }
func (s *streamInfo) Mode() fs.FileMode  { return s.base.Mode().Perm() }
func (s *streamInfo) ModTime() time.Time { return s.base.ModTime() }
func (s *streamInfo) IsDir() bool        { return false }
func (s *streamInfo) Sys() any           { return s.base.Sys() }
