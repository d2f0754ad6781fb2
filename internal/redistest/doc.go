// Package redistest starts a real redis-server for tests, on a free loopback port,
// and stops it when the test ends.
//
// On a machine without redis-server on the PATH it falls back to an in-process
// miniredis and says so in the test log; tests that need a real server process
// (restart, persistence) call RequireReal and skip there. When the environment
// variable RequireEnv is "1" (CI sets it) the fallback is a failure instead, so CI
// always runs on real Redis.
//
// StartProcess starts the same redis-server process without a testing.TB, for
// programs (cmd/bench); its caller closes it.
//
// Options.TLS starts a TLS-only server with a certificate signed by a CA made
// for the test (Server.CAFile, Server.CertPool), for tests of rediss://.
package redistest
