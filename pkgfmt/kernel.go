package pkgfmt

import "context"

// ObjectData is one ELF object's path inside a package and its bytes.
type ObjectData struct {
	Path string
	Data []byte
}

// InferKernel infers the lowest kernel release that supports everything
// the objects use. (Placeholder: owned by the kernel-compat work, issue 7.)
func InferKernel(objs []ObjectReport) *KernelReport { return nil }

// CheckMinKernel compares a declared min_kernel with the inferred report and
// returns a warning naming the feature when the declaration is too low.
func CheckMinKernel(declared string, k *KernelReport) []Problem { return nil }

// VerifyObjects loads every program into the running kernel's verifier.
func VerifyObjects(ctx context.Context, objs []ObjectData) *VerifierReport { return nil }

// CheckKernelBTF checks CO-RE relocations against the given kernels' BTF.
func CheckKernelBTF(ctx context.Context, objs []ObjectData, btfFiles []string) ([]BTFCompat, error) {
	return nil, nil
}
