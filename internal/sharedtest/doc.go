// Package sharedtest holds what essworker's tests share, as River's
// riversharedtest does for River's: WaitFor, to wait on a condition instead of
// sleeping; FreeAddr, a loopback address nothing listens on; and
// BuildBinaries, to build the programs a test runs as processes; and
// DocNamesEveryFlag, which keeps a command's doc.go in step with its flags.
//
// It imports nothing of essworker, so any package may use it, the internal
// tests of essclient and esstest included. Wait and FreeAddr return errors
// rather than fail a test, so code without a testing.TB (cmd/bench,
// redistest.StartProcess) uses them too.
package sharedtest
