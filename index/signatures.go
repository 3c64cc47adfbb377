package index

import (
	"fmt"
	"strings"
	"time"
)

// Signatures records, for one version, each of the three signing levels a
// package may carry: the package itself (TUF: signed by its publisher or
// by the repository), the bytecode (a signed light-skeleton loader the
// Linux kernel checks) and Windows drivers (Authenticode, for HVCI). It
// is descriptive: what a client acts on comes from TUF target info and
// from evidence it re-checks.
type Signatures struct {
	Package PackageSignature `json:"package"`
	Kernel  LevelSignature   `json:"kernel"`
	HVCI    LevelSignature   `json:"hvci"`
}

// Signers of the package level.
const (
	SignerPublisher  = "publisher"  // the author's own keys, in a pub-<publisher> role CI cannot sign
	SignerRepository = "repository" // the repository's online keys (unclaimed, hashed bins)
)

// PackageSignature says who vouches for a version's artifacts in TUF.
type PackageSignature struct {
	Signer    string   `json:"signer"`              // SignerPublisher or SignerRepository
	Publisher string   `json:"publisher,omitempty"` // with SignerPublisher
	Role      string   `json:"role"`                // the TUF role: "pub-acme", "unclaimed"
	KeyIDs    []string `json:"keyids,omitempty"`    // the keys whose signatures verified (publisher roles)
	// Keyless is set for a keyless publisher's version: what its
	// Sigstore bundle (the target <artifact target>.sigstore.json)
	// proved. The artifact itself is in the unclaimed role's bins.
	Keyless *KeylessSignature `json:"keyless,omitempty"`
}

// StatusAbsent is the status of a level a version does not carry.
const StatusAbsent = "absent"

// LevelSignature is the state of the kernel or HVCI level.
type LevelSignature struct {
	Status string `json:"status"` // StatusAbsent, or what the level's check found
	// For the kernel level: the scheme, the signer certificate's
	// subject, the trusted certificate it chains to, and the one-line
	// account ("kernel signature verified offline (…)").
	Scheme   string `json:"scheme,omitempty"`
	Signer   string `json:"signer,omitempty"`
	ChainsTo string `json:"chains_to,omitempty"`
	Summary  string `json:"summary,omitempty"`
}

// RepositorySigned is the record of a version only the repository signs.
func RepositorySigned() Signatures {
	return Signatures{Package: PackageSignature{Signer: SignerRepository, Role: "unclaimed"},
		Kernel: LevelSignature{Status: StatusAbsent}, HVCI: LevelSignature{Status: StatusAbsent}}
}

// KeylessSignature is what a verified Sigstore bundle proved about a
// version's artifact: who signed it (the certificate's identity and
// issuer, and for CI the repository, ref, commit and workflow), and the
// transparency-log entry that recorded it.
type KeylessSignature struct {
	Publisher      string    `json:"publisher"`                // the keyless grant in publishers.json
	Kind           string    `json:"kind"`                     // "message-signature" or "dsse"
	PredicateType  string    `json:"predicate_type,omitempty"` // of a DSSE in-toto statement
	Identity       string    `json:"identity"`                 // the certificate's subject alternative name
	Issuer         string    `json:"issuer"`                   // the OIDC issuer
	Repository     string    `json:"repository,omitempty"`     // source repository URI
	Ref            string    `json:"ref,omitempty"`            // source repository ref
	Commit         string    `json:"commit,omitempty"`         // source repository digest
	Workflow       string    `json:"workflow,omitempty"`       // build config URI
	Run            string    `json:"run,omitempty"`            // run invocation URI
	Log            string    `json:"log,omitempty"`            // the Rekor log's base URL
	LogID          string    `json:"log_id"`                   // hex
	LogIndex       int64     `json:"log_index"`
	IntegratedTime time.Time `json:"integrated_time"`
}

// PublicGoodRekor is the base URL of Sigstore's public-good Rekor log.
const PublicGoodRekor = "https://rekor.sigstore.dev"

// LogEntryURL is where a person looks up k's transparency-log entry: the
// Sigstore search page for the public-good log, else the log's own
// entry API (a private instance).
func LogEntryURL(k *KeylessSignature) string {
	if k.Log == PublicGoodRekor || k.Log == "" {
		return fmt.Sprintf("https://search.sigstore.dev/?logIndex=%d", k.LogIndex)
	}
	return fmt.Sprintf("%s/api/v1/log/entries?logIndex=%d", strings.TrimRight(k.Log, "/"), k.LogIndex)
}
