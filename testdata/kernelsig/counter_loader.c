// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// counter_loader: the user-space loader l3afd runs as the package's
// cmd_start. It loads the signed light skeleton (the kernel checks the
// signature against the keyring given by --keyring-id, default the
// kernel's own keyrings), attaches the XDP program to --iface, pins the
// verdicts map for l3afd's map_args and stays until it is stopped.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include "counter.lskel.h"

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv)
{
	const char *iface = NULL, *pin = "/sys/fs/bpf/counter_verdicts";
	int keyring = 0;
	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--iface=", 8))
			iface = argv[i] + 8;
		else if (!strncmp(argv[i], "--keyring-id=", 13))
			keyring = atoi(argv[i] + 13);
		else if (!strncmp(argv[i], "--pin=", 6))
			pin = argv[i] + 6;
	}
	if (!iface) {
		fprintf(stderr, "usage: %s --iface=IFACE [--keyring-id=N] [--pin=PATH]\n", argv[0]);
		return 2;
	}
	struct counter *skel = counter__open();
	if (!skel) {
		fprintf(stderr, "counter: open failed\n");
		return 1;
	}
	skel->keyring_id = keyring;
	int err = counter__load(skel);
	if (err) {
		fprintf(stderr, "counter: signed load failed: %s (EOPNOTSUPP: this kernel does not check BPF signatures)\n", strerror(-err));
		counter__destroy(skel);
		return 1;
	}
	int ifindex = if_nametoindex(iface);
	if (!ifindex) {
		fprintf(stderr, "counter: %s: %s\n", iface, strerror(errno));
		counter__destroy(skel);
		return 1;
	}
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.pathname = (long)pin;
	attr.bpf_fd = skel->maps.verdicts.map_fd;
	if (skel_sys_bpf(BPF_OBJ_PIN, &attr, sizeof(attr)) < 0)
		fprintf(stderr, "counter: pin %s: %s\n", pin, strerror(errno));
	int link = skel_link_create(skel->progs.count_packets.prog_fd, ifindex, BPF_XDP);
	if (link < 0) {
		fprintf(stderr, "counter: attach to %s: %s\n", iface, strerror(-link));
		counter__destroy(skel);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop)
		pause();
	close(link);
	unlink(pin);
	counter__destroy(skel);
	return 0;
}
