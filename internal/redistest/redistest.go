// Package redistest runs a real redis-server (Redis 7 or Valkey) on a free loopback
// port for tests, in a temporary folder, with persistence off unless a test asks for a
// dump.
package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tokentray/tokentray/internal/syncbuf"
)

// Server is one redis-server process.
type Server struct {
	// Addr is host:port on 127.0.0.1.
	Addr string
	// Password is the requirepass, "" for none.
	Password string
	dir      string
	cmd      *exec.Cmd
	exited   chan struct{}
	out      *syncbuf.Buffer
}

// Binary returns the path of redis-server (or valkey-server), or "" when neither is
// installed.
func Binary() string {
	for _, name := range []string{"redis-server", "valkey-server"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Start starts a redis-server on a free loopback port and stops it at the test's end.
// password, when not "", is required of clients. It skips the test when no server
// binary is installed.
func Start(t testing.TB, password string) *Server {
	t.Helper()
	bin := Binary()
	if bin == "" {
		t.Skip("redis-server is not installed; scripts/install-deps installs it (apt-get install redis-server)")
	}
	s := &Server{Password: password, dir: t.TempDir()}
	var lastErr error
	for range 3 { // a free port may be taken between the probe and the start
		if lastErr = s.start(bin); lastErr == nil {
			t.Cleanup(s.Stop)
			return s
		}
	}
	t.Fatalf("redis-server: %v", lastErr)
	return nil
}

func (s *Server) start(bin string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("free port: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s.Addr = "127.0.0.1:" + strconv.Itoa(port)
	args := []string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--save", "", "--appendonly", "no", "--rdbcompression", "no", "--daemonize", "no",
		"--dbfilename", "dump.rdb", "--loglevel", "warning",
	}
	if s.Password != "" {
		args = append(args, "--requirepass", s.Password)
	}
	s.out = &syncbuf.Buffer{}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	s.exited = make(chan struct{})
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	c := s.Client()
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-s.exited:
			return fmt.Errorf("exited at start: %s", s.out.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
	}
	s.Stop()
	return fmt.Errorf("not answering PING within 10 s: %s", s.out.String())
}

// URL is the shared_store URL of the server, database 0.
func (s *Server) URL() string {
	return "redis://" + s.Addr + "/0"
}

// Client returns a go-redis client of the server; the caller closes it.
func (s *Server) Client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: s.Addr, Password: s.Password, DisableIdentity: true, MaxRetries: -1})
}

// Stop kills the server and waits for it to exit; it may be called more than once.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// Dump runs SAVE (rdbcompression is off) and returns the RDB file's bytes.
func (s *Server) Dump(t testing.TB) []byte {
	t.Helper()
	c := s.Client()
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatalf("redis SAVE: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(s.dir, "dump.rdb"))
	if err != nil {
		t.Fatalf("read the dump: %v", err)
	}
	return b
}
