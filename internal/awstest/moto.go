package awstest

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/logalert/logalert/internal/motoserver"
)

// RunWithMoto is the body of a TestMain that shares one moto_server: it
// starts the server, sets *url to its endpoint, runs m and stops the
// server. It returns the exit code for os.Exit; a server that fails to
// start is reported on stderr after name and fails the run.
func RunWithMoto(ctx context.Context, m *testing.M, name string, url *string) int {
	s, err := motoserver.Start(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		return 1
	}
	defer s.Stop()
	*url = s.URL
	return m.Run()
}
