package vfs

// Wrapper is implemented by an FS that serves through another FS, with the
// same names: Unwrap returns the FS it wraps.
//
// A wrapper is an FS that serves through another one: it adds latency,
// counts calls, caches. The optional capabilities (StatFSer, Linker,
// EAer, Streamer, Watcher, DirPager ...) are interfaces a backend may
// implement beyond FS, which a plain wrapper would hide: its type has only
// the FS methods. A wrapper that passes names through unchanged keeps them
// visible by having an Unwrap method returning what it wraps (the Wrapper
// interface), as errors.Unwrap does for errors; the server then finds each
// capability with As, which looks at the wrapper first and then down the
// chain. A capability found below a wrapper is called directly, without
// the wrapper: a wrapper that must see a capability's calls (to count or
// slow them) implements that capability itself, and As finds it first.
type Wrapper interface {
	Unwrap() FS
}

// maxUnwrap bounds a chain of wrappers, so that a wrapper that returns
// itself cannot make As loop.
const maxUnwrap = 64

// As reports whether fsys, or an FS it wraps (through Unwrap, repeatedly),
// implements T, and returns the first one that does. Use it, not a type
// assertion, to test an FS for an optional capability:
//
//	if l, ok := vfs.As[vfs.Linker](fsys); ok { ... }
func As[T any](fsys FS) (T, bool) {
	for i := 0; fsys != nil && i < maxUnwrap; i++ {
		if t, ok := fsys.(T); ok {
			return t, true
		}
		w, ok := fsys.(Wrapper)
		if !ok {
			break
		}
		fsys = w.Unwrap()
	}
	var zero T
	return zero, false
}
