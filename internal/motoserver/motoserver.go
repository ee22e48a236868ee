// Package motoserver starts and stops a local moto_server, the AWS API
// emulator that the integration tests and the local demo run against.
//
// moto_server is a Python program (`pip install 'moto[server]'`). Start looks
// for it on PATH (or in the MOTO_SERVER environment variable), binds it to a
// free loopback port and waits until it answers. The caller points the AWS
// SDK at Server.URL (for example through AWS_ENDPOINT_URL).
package motoserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// ErrNotInstalled reports that no moto_server executable was found.
var ErrNotInstalled = errors.New("moto_server not found: install it with: pip install 'moto[server]' (or set MOTO_SERVER to its path)")

// Server is a running moto_server process.
type Server struct {
	// URL is the endpoint to give the AWS SDK, e.g. http://127.0.0.1:41234.
	URL string

	cmd    *exec.Cmd
	output *syncBuffer
	done   chan struct{}
	once   sync.Once
}

// Start launches moto_server on a free loopback port and returns once it
// accepts requests. It fails with ErrNotInstalled when the executable is
// missing, and with the server's own output when it exits or does not answer
// within 30 seconds.
func Start(ctx context.Context) (*Server, error) {
	bin, err := executable()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("find a free port: %w", err)
	}
	out := &syncBuffer{}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Keep moto's Python from buffering or reading a user's AWS profile.
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1")
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, output: out, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(ctx, 30*time.Second); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// Stop ends the server and every process it started. It is safe to call
// more than once.
func (s *Server) Stop() {
	s.once.Do(func() {
		if s.cmd.Process != nil {
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
		}
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.done
		}
	})
}

// Output returns what the server has printed so far, for diagnostics.
func (s *Server) Output() string { return s.output.String() }

func (s *Server) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/moto-api/", nil)
		if err != nil {
			return fmt.Errorf("probe moto_server: %w", err)
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("moto_server exited before it was ready: %s", s.Output())
		case <-ctx.Done():
			return fmt.Errorf("wait for moto_server: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("moto_server did not answer within %s: %s", limit, s.Output())
		}
	}
}

func executable() (string, error) {
	if p := os.Getenv("MOTO_SERVER"); p != "" {
		return p, nil
	}
	p, err := exec.LookPath("moto_server")
	if err != nil {
		return "", ErrNotInstalled
	}
	return p, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer collects the server's output from its pipe goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 64<<10 { // keep diagnostics bounded
		b.buf.Reset()
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
