package awstest

import (
	"fmt"
	"net"
	"net/http"
)

// listen serves srv on a free loopback port and returns its address.
func listen(srv *http.Server) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listen: %w", err)
	}
	go srv.Serve(l) //nolint:errcheck // Serve returns ErrServerClosed on Close
	return l.Addr().String(), nil
}
