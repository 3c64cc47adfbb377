// Package s3test starts a real S3-compatible server for tests: versitygw
// (github.com/versity/versitygw, Apache-2.0) with its posix backend, on
// 127.0.0.1, storing into the test's temporary directory. .ci/run and
// `make s3-server` install it; without it, tests that need it skip and
// say so.
package s3test
