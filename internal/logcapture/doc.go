// Package logcapture keeps what concurrent writers write (a logger shared by a
// worker's goroutines, a child process's output), for tests to read back.
package logcapture
