// Package pemcert reads X.509 certificates from PEM files: the one reader
// of the trust anchors operators and maintainers configure (kernel-signing
// certificates, Windows test roots, --kernel-cert). Files are bounded by
// MaxFile; blocks other than CERTIFICATE are skipped; a file with none is
// an error.
package pemcert
