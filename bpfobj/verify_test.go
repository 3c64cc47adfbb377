package bpfobj

import (
	"strings"
	"testing"
)

func TestVerifierLogHelpers(t *testing.T) {
	log := []string{
		"0: R1=ctx() R10=fp0",
		"; struct ethhdr *eth = (void *)(long)ctx->data; @ reject.bpf.c:37",
		"1: (71) r2 = *(u8 *)(r1 +12)",
		"invalid access to packet, off=12 size=1, R1(id=0,off=12,r=0)",
		"R1 offset is outside of the packet",
		"verification time 66 usec",
		"stack depth 0",
		"processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0",
		"",
	}
	if got := verifierProcessedInsns(log); got != 2 {
		t.Errorf("verifierProcessedInsns = %d, want 2", got)
	}
	if got := verifierProcessedInsns([]string{"no stats"}); got != 0 {
		t.Errorf("verifierProcessedInsns without stats = %d, want 0", got)
	}
	if got, want := verifierRejectionReason(log), "invalid access to packet, off=12 size=1, R1(id=0,off=12,r=0); R1 offset is outside of the packet"; got != want {
		t.Errorf("verifierRejectionReason = %q, want %q", got, want)
	}
	if got := verifierRejectionReason(nil); got != "" {
		t.Errorf("verifierRejectionReason(nil) = %q", got)
	}

	long := make([]string, 1000)
	for i := range long {
		long[i] = strings.Repeat("x", 300)
	}
	tail := verifierLogTail(long)
	if len(tail) > verifierLogTailBytes || strings.Count(tail, "\n") >= verifierLogTailLines {
		t.Errorf("verifierLogTail: %d bytes, %d lines; want at most %d bytes, %d lines", len(tail), strings.Count(tail, "\n")+1, verifierLogTailBytes, verifierLogTailLines)
	}
	if got := verifierLogTail(log); !strings.HasSuffix(got, "mark_read 0") || !strings.HasPrefix(got, "0: R1=ctx()") {
		t.Errorf("verifierLogTail of a short log = %q, want it whole without the trailing blank line", got)
	}
}
