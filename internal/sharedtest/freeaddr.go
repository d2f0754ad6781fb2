package sharedtest

import (
	"fmt"
	"net"
)

// FreeAddr returns "127.0.0.1:PORT" for a TCP port that nothing listens on
// now: the kernel picks it for a listener that closes at once. Something else
// may take it before the caller does, so a server that can listen on port 0
// and report its address should do that instead; FreeAddr is for programs
// that must be told their port.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}
