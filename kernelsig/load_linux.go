package kernelsig

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The bpf_attr layouts of the three commands, as the 6.18 UAPI has them
// (include/uapi/linux/bpf.h): offsets of the fields Load sets.
const (
	mapCreateSize   = 92  // offsetofend(excl_prog_hash_size)
	mapExclHash     = 80  // __aligned_u64 excl_prog_hash
	mapExclHashSize = 88  // __u32 excl_prog_hash_size
	progLoadSize    = 168 // offsetofend(keyring_id)
	progSignature   = 152
	progSigSize     = 160
	progKeyring     = 164
	progFdArray     = 120
	progSyscallType = 31     // BPF_PROG_TYPE_SYSCALL
	progSleepable   = 1 << 4 // BPF_F_SLEEPABLE
)

func bpf(cmd int, attr []byte) (int, error) {
	r, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(unsafe.Pointer(&attr[0])), uintptr(len(attr)))
	runtime.KeepAlive(attr)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

func ptr[T any](p *T) uint64 { return uint64(uintptr(unsafe.Pointer(p))) }

// Load asks the running kernel to load the signed loader as
// bpf_load_and_run (libbpf skel_internal.h) does — the data in an array
// map exclusive to sha256(insns), frozen, then BPF_PROG_LOAD with the
// signature — and reports its answer. It never runs the loader. Root
// (CAP_BPF and CAP_SYS_ADMIN) is needed; without it the result is
// LoadNotRun.
func Load(ctx context.Context, l Loader) LoadResult {
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	res := LoadResult{Kernel: unix.ByteSliceToString(uts.Release[:])}
	if os.Geteuid() != 0 {
		res.Status, res.Reason = LoadNotRun, "needs root"
		return res
	}
	if len(l.Insns) == 0 || len(l.Insns)%8 != 0 || len(l.Data) == 0 {
		res.Status, res.Reason = LoadNotRun, "no loader to load"
		return res
	}
	le := binary.LittleEndian
	excl := l.ExclHash
	if excl == nil && l.Signature != nil {
		s := sum256(l.Insns)
		excl = s[:]
	}
	// BPF_MAP_CREATE: ARRAY, key 4, value len(data), 1 entry.
	m := make([]byte, mapCreateSize)
	le.PutUint32(m[0:], unix.BPF_MAP_TYPE_ARRAY)
	le.PutUint32(m[4:], 4)
	le.PutUint32(m[8:], uint32(len(l.Data)))
	le.PutUint32(m[12:], 1)
	copy(m[28:44], "__loader.map")
	if excl != nil {
		le.PutUint64(m[mapExclHash:], ptr(&excl[0]))
		le.PutUint32(m[mapExclHashSize:], uint32(len(excl)))
	}
	mapFD, err := bpf(unix.BPF_MAP_CREATE, m)
	runtime.KeepAlive(excl)
	if err != nil {
		return answer(res, "creating the loader map", err)
	}
	defer unix.Close(mapFD)
	key := uint32(0)
	u := make([]byte, 32)
	le.PutUint32(u[0:], uint32(mapFD))
	le.PutUint64(u[8:], ptr(&key))
	le.PutUint64(u[16:], ptr(&l.Data[0]))
	if _, err := bpf(unix.BPF_MAP_UPDATE_ELEM, u); err != nil {
		return answer(res, "filling the loader map", err)
	}
	runtime.KeepAlive(l.Data)
	f := make([]byte, 8)
	le.PutUint32(f[0:], uint32(mapFD))
	if _, err := bpf(unix.BPF_MAP_FREEZE, f); err != nil {
		return answer(res, "freezing the loader map", err)
	}
	license := []byte("Dual BSD/GPL\x00")
	fds := []int32{int32(mapFD)}
	p := make([]byte, progLoadSize)
	le.PutUint32(p[0:], progSyscallType)
	le.PutUint32(p[4:], uint32(len(l.Insns)/8))
	le.PutUint64(p[8:], ptr(&l.Insns[0]))
	le.PutUint64(p[16:], ptr(&license[0]))
	le.PutUint32(p[44:], progSleepable)
	copy(p[48:64], "__loader.prog")
	le.PutUint64(p[progFdArray:], ptr(&fds[0]))
	if l.Signature != nil {
		le.PutUint64(p[progSignature:], ptr(&l.Signature[0]))
		le.PutUint32(p[progSigSize:], uint32(len(l.Signature)))
	}
	le.PutUint32(p[progKeyring:], 0)
	progFD, err := bpf(unix.BPF_PROG_LOAD, p)
	runtime.KeepAlive(l.Insns)
	runtime.KeepAlive(l.Signature)
	runtime.KeepAlive(license)
	runtime.KeepAlive(fds)
	if err != nil {
		return answer(res, "loading the loader", err)
	}
	unix.Close(progFD)
	res.Status = LoadAccepted
	return res
}

func answer(res LoadResult, step string, err error) LoadResult {
	var en unix.Errno
	if errors.As(err, &en) {
		res.Errno = unix.ErrnoName(en)
		if en == unix.EOPNOTSUPP {
			res.Errno = "EOPNOTSUPP"
			res.Status, res.Reason = LoadNotAvailable, "not available on this kernel (EOPNOTSUPP, "+step+"): it does not check BPF signatures (CONFIG_SYSTEM_DATA_VERIFICATION, Linux 6.18+)"
			return res
		}
	}
	res.Status, res.Reason = LoadRejected, fmt.Sprintf("%s: %v", step, err)
	return res
}
