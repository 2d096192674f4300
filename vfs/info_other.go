//go:build !linux

package vfs

import "io/fs"

func sysTimes(fs.FileInfo, *Times) {}
func sysFileID(fs.FileInfo) uint64 { return 0 }
func sysLinks(fs.FileInfo) uint32  { return 0 }
