// Package tufrepo keeps the TUF metadata of an ebpfrepo repository with
// go-tuf/v2's metadata API: keys, the roles root, targets, the succinct
// hashed bins, snapshot and timestamp, their versions and expiry dates,
// and signing. It never writes TUF JSON by hand.
package tufrepo
