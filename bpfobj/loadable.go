package bpfobj

import (
	"fmt"
	"math"
	"math/bits"
	"os"
	"runtime"

	"github.com/cilium/ebpf"
)

// LoadableSpec returns a copy of the object's collection prepared the way
// the verifier check loads it, for callers that load it themselves (the
// test vector runner, package progtest): maps unpinned, program arrays
// empty, struct_ops maps left out, and the memory the maps would take
// within the limit (an error, naming it, otherwise).
func (o *Object) LoadableSpec() (*ebpf.CollectionSpec, error) {
	spec := o.Spec()
	if err := prepareLoad(spec); err != nil {
		return nil, &ObjectError{Path: o.Path, Err: err}
	}
	return spec, nil
}

// prepareLoad changes spec for a load that must not touch the host: maps
// unpinned, program arrays empty, struct_ops maps left out (they hold
// programs; struct_ops programs are reported inconclusive), and refuses
// maps that would need more than maxVerifierMapBytes.
func prepareLoad(spec *ebpf.CollectionSpec) error {
	var mapBytes uint64
	for name, m := range spec.Maps {
		if m.Type == ebpf.StructOpsMap {
			delete(spec.Maps, name)
			continue
		}
		verifierUnpin(m)
		if m.Type == ebpf.ProgramArray {
			m.Contents = nil
		}
		mapBytes = satAdd(mapBytes, verifierMapBytes(m))
	}
	if mapBytes > maxVerifierMapBytes {
		return fmt.Errorf("maps would need about %d MiB (limit %d MiB); not created", mapBytes>>20, maxVerifierMapBytes>>20)
	}
	return nil
}

// verifierMapBytes estimates the memory creating a map takes, saturating
// at math.MaxUint64.
func verifierMapBytes(m *ebpf.MapSpec) uint64 {
	switch m.Type {
	case ebpf.RingBuf, ebpf.UserRingbuf:
		return uint64(m.MaxEntries) // the buffer size in bytes
	case ebpf.Arena:
		return satMul(uint64(m.MaxEntries), uint64(os.Getpagesize()))
	}
	size := satMul(uint64(m.MaxEntries), uint64(m.KeySize)+uint64(m.ValueSize))
	switch m.Type {
	case ebpf.PerCPUHash, ebpf.PerCPUArray, ebpf.LRUCPUHash, ebpf.PerCPUCGroupStorage:
		size = satMul(size, uint64(runtime.NumCPU()))
	}
	return size
}

func satMul(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return math.MaxUint64
	}
	return lo
}

func satAdd(a, b uint64) uint64 {
	sum, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return math.MaxUint64
	}
	return sum
}

func verifierUnpin(m *ebpf.MapSpec) {
	m.Pinning = ebpf.PinNone
	if m.InnerMap != nil {
		m.InnerMap.Pinning = ebpf.PinNone
	}
}
