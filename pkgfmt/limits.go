package pkgfmt

// Default limits of the safe readers.
const (
	DefaultMaxEntries      = 1000
	DefaultMaxFileSize     = 64 << 20  // 64 MiB per file
	DefaultMaxTotalSize    = 256 << 20 // 256 MiB uncompressed in all
	DefaultMaxManifestSize = 1 << 20   // 1 MiB
	DefaultMaxArchiveSize  = 128 << 20 // 128 MiB compressed artifact
)

// maxPathLen bounds the length of one entry name, in bytes.
const maxPathLen = 1024

// Limits bounds what the readers accept. The zero value of a field means
// its default (DefaultMax*); a negative value is treated as the default
// too, so a limit can never be switched off by accident.
type Limits struct {
	MaxEntries      int   // entries (files and directories) in a package
	MaxFileSize     int64 // bytes of one file, counted as read
	MaxTotalSize    int64 // bytes of all files together, counted as read
	MaxManifestSize int64 // bytes of ebpf-package.toml
	MaxArchiveSize  int64 // bytes of the compressed artifact
}

// WithDefaults returns l with every unset field set to its default.
func (l Limits) WithDefaults() Limits {
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = DefaultMaxFileSize
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = DefaultMaxTotalSize
	}
	if l.MaxManifestSize <= 0 {
		l.MaxManifestSize = DefaultMaxManifestSize
	}
	if l.MaxArchiveSize <= 0 {
		l.MaxArchiveSize = DefaultMaxArchiveSize
	}
	return l
}
