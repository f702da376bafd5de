package safesocket_test

import (
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/safesocket"
)

func TestListenMakesAPrivateSocket(t *testing.T) {
	path := filepath.Join(shortDir(t), "a", "b", "agent.sock")
	ln, err := safesocket.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket: %v, %v; want a 0600 socket", fi.Mode(), err)
	}
	for _, dir := range []string{filepath.Dir(path), filepath.Dir(filepath.Dir(path))} {
		di, err := os.Stat(dir)
		if err != nil || di.Mode().Perm() != 0o700 {
			t.Fatalf("folder %s: %v, %v; want 0700", dir, di.Mode(), err)
		}
	}
}

func TestListenRefusesAnOpenFolder(t *testing.T) {
	tests := []struct {
		mode   os.FileMode
		shared bool // others may write: advise a folder of one's own, never chmod
	}{
		{0o711, false}, {0o750, false}, {0o755, false},
		{0o777, true}, {0o702, true}, {0o777 | os.ModeSticky, true},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			dir := filepath.Join(shortDir(t), "run")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			os.Chmod(dir, tt.mode)
			_, err := safesocket.Listen(filepath.Join(dir, "agent.sock"))
			if err == nil || !strings.Contains(err.Error(), "put the socket in a folder of your own") {
				t.Fatalf("Listen in a %v folder = %v, want a refusal saying to use a folder of one's own", tt.mode, err)
			}
			if chmod := strings.Contains(err.Error(), "chmod 700"); chmod == tt.shared {
				t.Errorf("Listen in a %v folder = %q: advises chmod %t, want %t", tt.mode, err, chmod, !tt.shared)
			}
			if _, err := os.Lstat(filepath.Join(dir, "agent.sock")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a socket was made in the open folder: %v", err)
			}
			if fi, _ := os.Stat(dir); fi.Mode()&(os.ModePerm|os.ModeSticky) != tt.mode {
				t.Fatalf("Listen changed the folder's mode to %v", fi.Mode())
			}
		})
	}
}

func TestListenRefusesAFolderOfAnotherUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to give a folder to another uid")
	}
	dir := filepath.Join(shortDir(t), "run")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	_, err := safesocket.Listen(filepath.Join(dir, "agent.sock"))
	if err == nil || !strings.Contains(err.Error(), "belongs to uid 65534") {
		t.Fatalf("Listen in a folder of uid 65534 = %v, want a refusal naming the owner", err)
	}
}

func TestListenRefusesWhatIsNotAFolderOrSocket(t *testing.T) {
	t.Run("file in place of the socket", func(t *testing.T) {
		path := filepath.Join(shortDir(t), "agent.sock")
		os.Chmod(filepath.Dir(path), 0o700)
		if err := os.WriteFile(path, []byte("keep me"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := safesocket.Listen(path)
		if err == nil || !strings.Contains(err.Error(), "not a socket") {
			t.Fatalf("Listen over a file = %v, want a refusal", err)
		}
		if b, _ := os.ReadFile(path); string(b) != "keep me" {
			t.Fatalf("the file was changed: %q", b)
		}
	})
	t.Run("file in place of the folder", func(t *testing.T) {
		dir := filepath.Join(shortDir(t), "run")
		os.WriteFile(dir, nil, 0o600)
		if _, err := safesocket.Listen(filepath.Join(dir, "agent.sock")); err == nil {
			t.Fatal("Listen under a file succeeded")
		}
	})
	t.Run("symlink in place of the folder", func(t *testing.T) {
		base := shortDir(t)
		os.Chmod(base, 0o700)
		os.Symlink(base, filepath.Join(base, "run"))
		_, err := safesocket.Listen(filepath.Join(base, "run", "agent.sock"))
		if err == nil || !strings.Contains(err.Error(), "not a folder") {
			t.Fatalf("Listen under a symlink = %v, want a refusal", err)
		}
	})
}

func TestListenRemovesAStaleSocket(t *testing.T) {
	path := filepath.Join(shortDir(t), "run", "agent.sock")
	os.Mkdir(filepath.Dir(path), 0o700)
	// A crashed agent leaves its socket file behind.
	old, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	old.SetUnlinkOnClose(false)
	old.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("the stale socket is not there: %v", err)
	}
	ln, err := safesocket.Listen(path)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("dial the new socket: %v", err)
	}
	c.Close()
}

func TestListenRefusesALiveSocket(t *testing.T) {
	path := filepath.Join(shortDir(t), "run", "agent.sock")
	live, err := safesocket.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	// Another agent: it answers /v1/status as one.
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"version":"other","pid":4242,"connections":0}`))
	})}
	go srv.Serve(live)
	defer srv.Close()
	_, err = safesocket.Listen(path)
	if !errors.Is(err, safesocket.ErrAgentRunning) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Listen over a live agent's socket = %v, want ErrAgentRunning naming the path", err)
	}
	// The live agent keeps its socket.
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("the live socket was taken away: %v", err)
	}
	c.Close()
}

// TestListenLeavesAnotherProgramsSocket: a live socket whose program does not
// answer /v1/status as an agent (here: it hangs up at once, or answers
// something else) is reported as another program's, not as another agent,
// and is not removed.
func TestListenLeavesAnotherProgramsSocket(t *testing.T) {
	tests := []struct {
		name  string
		serve func(net.Conn)
	}{
		{"hangs up", func(c net.Conn) { c.Close() }},
		{"answers 404", func(c net.Conn) {
			defer c.Close()
			c.Read(make([]byte, 4096))
			c.Write([]byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(shortDir(t), "run")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "other.sock")
			ln, err := net.Listen("unix", path)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go tt.serve(c)
				}
			}()
			_, err = safesocket.Listen(path)
			if !errors.Is(err, safesocket.ErrForeignSocket) || errors.Is(err, safesocket.ErrAgentRunning) ||
				!strings.Contains(err.Error(), "another program") || strings.Contains(err.Error(), "another tokentray agent") {
				t.Fatalf("Listen over another program's socket = %v, want ErrForeignSocket saying so", err)
			}
			if fi, err := os.Lstat(path); err != nil || fi.Mode().Type() != os.ModeSocket {
				t.Fatalf("the other program's socket is gone: %v", err)
			}
		})
	}
}

// shortDir returns a fresh folder with a short path: a socket path must fit
// in 108 bytes, which t.TempDir's long names can exceed.
func shortDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "sock")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
