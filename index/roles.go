package index

import "time"

// RoleInfo describes one TUF role as a reader is told of it: the
// repository's build (the catalogue's Trust page), the client (what signed
// the data it used) and the CLI show the same facts.
type RoleInfo struct {
	Name      string    `json:"name"`
	Version   int64     `json:"version"`
	Expires   time.Time `json:"expires"`
	Threshold int       `json:"threshold"`
	KeyIDs    []string  `json:"keyids"`
}
