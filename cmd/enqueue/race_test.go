//go:build race

package main

// Under go test -race, the command the tests run is built with the race
// detector too, so that its own goroutines (--wait) are checked.
func init() { buildFlags = append(buildFlags, "-race") }
