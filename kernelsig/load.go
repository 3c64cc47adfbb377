package kernelsig

// Load statuses: what the running kernel answered to a signed load.
const (
	LoadAccepted     = "accepted"      // the kernel verified the signature and loaded the loader (not run)
	LoadRejected     = "rejected"      // the kernel refused the load; Errno says why
	LoadNotAvailable = "not-available" // this kernel does not check BPF signatures (EOPNOTSUPP: no CONFIG_SYSTEM_DATA_VERIFICATION, or before 6.18)
	LoadNotRun       = "not-run"       // not tried: not Linux, or not root
)

// LoadResult is the running kernel's answer to loading a signed loader
// (BPF_PROG_LOAD with the signature), with keyring_id 0: the kernel's
// own keyrings. The loader is loaded, never run, and closed at once.
type LoadResult struct {
	Status string `json:"status"`
	Kernel string `json:"kernel,omitempty"` // uname release
	Errno  string `json:"errno,omitempty"`  // e.g. "EKEYREJECTED"
	Reason string `json:"reason,omitempty"`
}
