package main

// TEMPORARY (helper M): heap profile at the peak of the live heap.

import (
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

func init() {
	p := os.Getenv("EBPFREPO_MEMPROFILE")
	if p == "" {
		return
	}
	start := time.Now()
	go func() {
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/total:bytes"}}
		var maxLive, maxTotal uint64
		for {
			metrics.Read(s)
			live, total := s[0].Value.Uint64(), s[1].Value.Uint64()
			if total > maxTotal {
				maxTotal = total
			}
			if live > maxLive*21/20 {
				maxLive = live
				f, err := os.Create(p)
				if err == nil {
					pprof.Lookup("heap").WriteTo(f, 0)
					f.Close()
				}
				fmt.Fprintf(os.Stderr, "memprof: t=%.2fs live=%dMB total=%dMB\n", time.Since(start).Seconds(), live>>20, maxTotal>>20)
			}
			time.Sleep(20 * time.Millisecond)
			_ = runtime.NumGoroutine
		}
	}()
}
