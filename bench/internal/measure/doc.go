// Package measure runs commands as subprocesses and measures them: wall
// time, CPU time and peak resident set size (from the rusage the kernel
// reports when the process is reaped), and summarises repeated runs by
// their median.
package measure
