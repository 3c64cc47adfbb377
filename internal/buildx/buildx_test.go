package buildx

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

func TestParallel(t *testing.T) {
	for _, n := range []int{0, 1, 7, 1000} {
		var sum atomic.Int64
		if err := Parallel(context.Background(), n, func(i int) error { sum.Add(int64(i) + 1); return nil }); err != nil {
			t.Fatal(err)
		}
		if want := int64(n) * int64(n+1) / 2; sum.Load() != want {
			t.Errorf("n=%d: sum %d, want %d (every index once)", n, sum.Load(), want)
		}
	}
}

func TestParallelStopsAtFirstError(t *testing.T) {
	boom := errors.New("boom")
	var calls atomic.Int64
	err := Parallel(context.Background(), 10000, func(i int) error {
		calls.Add(1)
		if i == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if calls.Load() == 10000 {
		t.Error("every call ran after a failure")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Parallel(ctx, 5, func(int) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}

func TestProgramHash(t *testing.T) {
	h := ProgramHash()
	if len(h) != 64 || h != ProgramHash() {
		t.Errorf("ProgramHash() = %q, want a stable sha256 hex", h)
	}
}
