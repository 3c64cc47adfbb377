package bpfobj

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Statuses of a [VerifierResult].
const (
	// VerifierAccepted: the kernel's verifier accepted the program.
	VerifierAccepted = "accepted"
	// VerifierRejected: the verifier rejected the program; LogTail holds
	// the end of its log. This is an error in the package.
	VerifierRejected = "rejected"
	// VerifierNotRun: loading was impossible on this host (no BPF syscall,
	// not privileged, not Linux). Not a failure of the package.
	VerifierNotRun = "not-run"
	// VerifierInconclusive: the host refused the program for reasons that
	// say nothing about the program (EPERM with an empty log under
	// lockdown, a program type or attach target this kernel lacks, a
	// freplace program without its target). Not a failure of the package.
	VerifierInconclusive = "inconclusive"
)

// Limits on what a verifier result carries.
const (
	verifierLogTailLines = 25
	verifierLogTailBytes = 4096
	// maxVerifierMapBytes bounds the memory the maps of one object may ask
	// for before the verifier check declines to create them: a hostile
	// package must not make the build host allocate gigabytes.
	maxVerifierMapBytes = 512 << 20
)

var verifierProcessedRE = regexp.MustCompile(`processed (\d+) insns`)

// verifierProcessedInsns returns N from the verifier's "processed N insns" stats
// line, or 0 when the log has none.
func verifierProcessedInsns(log []string) int {
	for i := len(log) - 1; i >= 0; i-- {
		if m := verifierProcessedRE.FindStringSubmatch(log[i]); m != nil {
			n, err := strconv.Atoi(m[1])
			if err == nil {
				return n
			}
		}
	}
	return 0
}

// verifierLogTail returns the last lines of a verifier log, at most
// verifierLogTailLines lines and verifierLogTailBytes bytes.
func verifierLogTail(log []string) string {
	for len(log) > 0 && strings.TrimSpace(log[len(log)-1]) == "" {
		log = log[:len(log)-1]
	}
	if len(log) > verifierLogTailLines {
		log = log[len(log)-verifierLogTailLines:]
	}
	s := strings.Join(log, "\n")
	if len(s) > verifierLogTailBytes {
		s = s[len(s)-verifierLogTailBytes:]
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
	}
	return s
}

// verifierRejectionReason picks the lines of a verifier log that say why:
// the message lines at the end, after the last instruction or source line,
// without the stats summary. Several lines are joined with "; ".
func verifierRejectionReason(log []string) string {
	var msg []string
	for i := len(log) - 1; i >= 0 && len(msg) < 3; i-- {
		l := strings.TrimSpace(log[i])
		switch {
		case l == "", strings.HasPrefix(l, "processed "), strings.HasPrefix(l, "verification time"),
			strings.HasPrefix(l, "stack depth"), strings.HasPrefix(l, "mark_precise"):
			continue
		case strings.HasPrefix(l, ";"), l[0] >= '0' && l[0] <= '9' && strings.Contains(l, ": "):
			i = -1 // reached the instruction trace
			continue
		}
		msg = append(msg, l)
	}
	slices.Reverse(msg)
	return strings.Join(msg, "; ")
}
