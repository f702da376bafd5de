package localapi_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/awnumar/memguard"
	"golang.org/x/sys/unix"

	"github.com/tokentray/tokentray/internal/agentd"
	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/localclient"
	"github.com/tokentray/tokentray/vault"
)

// maxUnlockedCopies is the most copies of the current secret key that may
// sit outside locked memory after the calls (README, security section).
const maxUnlockedCopies = 4

// TestSecretKeyStaysInLockedMemory connects an in-process agent to an
// exchange in another process, makes 500 token, sign and proxy calls over the
// real socket, then reads its own memory through /proc/self/mem and counts
// the copies of the secret key: those in mlocked mappings (VmFlags "lo" in
// /proc/self/smaps: memguard's buffers) and those anywhere else (heap,
// stacks, net/http's buffers, freed memory not yet reused). The test's own
// copy is in a memguard buffer, its response buffer is wiped after every
// call and the scanner reads into an anonymous mapping it skips, so what is
// found outside locked memory is the agent's.
func TestSecretKeyStaysInLockedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("500 calls and a scan of the whole process")
	}
	relayURL := startDevstackProcess(t)
	home := t.TempDir()
	sock := filepath.Join(shortDir(t), "run", "agent.sock")
	memory := vault.ModeMemory
	d, err := agentd.Start(context.Background(), agentd.Options{
		Getenv: func(k string) string {
			if k == "TOKENTRAY_HOME" {
				return home
			}
			return ""
		},
		Socket: sock, VaultDir: home, VaultMode: &memory, RelayURL: relayURL,
		Open: devstack.Browser, Version: "test", Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	if v, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); err != nil || v != 0 {
		t.Errorf("PR_GET_DUMPABLE = %d (%v) after the agent started, want 0", v, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := localclient.NewClient(sock).Connect(ctx, localclient.ConnectRequest{Provider: devstack.ProviderID}, nil); err != nil {
		t.Fatalf("Connect: %v", err)
	}

	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 16<<10) // every answer lands here and is wiped after use
	secret := readSecret(t, c, buf)
	defer secret.Destroy()

	sign := `{"method":"GET","path":"/api/v2/orders","params":{"market":"btcusd"}}`
	// The last call is a token call (499 % 3 == 1): no later answer has
	// overwritten a buffer that held its key.
	calls := []string{
		"POST /v1/connections/exchange/sign HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: " +
			strconv.Itoa(len(sign)) + "\r\n\r\n" + sign,
		"GET /v1/connections/exchange/token HTTP/1.1\r\nHost: t\r\n\r\n",
		"GET /v1/connections/exchange/proxy/members/me HTTP/1.1\r\nHost: t\r\n\r\n",
	}
	for i := range 500 {
		status, _ := roundTrip(t, c, buf, calls[i%len(calls)])
		clear(buf)
		if status != 200 {
			t.Fatalf("call %d (%s) = %d", i, strings.Fields(calls[i%len(calls)])[1], status)
		}
	}

	locked, unlocked := countCopies(t, secret.Bytes())
	t.Logf("after 500 calls: %d copies of the secret key in locked memory (the test's own included), %d elsewhere", locked, unlocked)
	if locked == 0 {
		t.Fatal("the scan found not even the test's own locked copy: it does not see memory")
	}
	if unlocked > maxUnlockedCopies {
		t.Errorf("%d copies of the secret key outside locked memory, want at most %d", unlocked, maxUnlockedCopies)
	}
}

// startDevstackProcess runs the exchange and the relay in a child process
// and returns the relay's URL.
func startDevstackProcess(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), devstackEnv+"="+t.TempDir())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(s)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case u := <-line:
		if !strings.HasPrefix(u, "http://") {
			t.Fatalf("devstack process said %q, want its relay URL", u)
		}
		return u
	case <-time.After(30 * time.Second):
		t.Fatal("the devstack process did not start within 30 s")
		return ""
	}
}

// readSecret asks for the key once and keeps the secret key in locked
// memory; the answer is wiped.
func readSecret(t *testing.T, c net.Conn, buf []byte) *memguard.LockedBuffer {
	t.Helper()
	status, body := roundTrip(t, c, buf, "GET /v1/connections/exchange/token HTTP/1.1\r\nHost: t\r\n\r\n")
	if status != 200 {
		t.Fatalf("token = %d", status)
	}
	const field = `"secret_key":"`
	i := bytes.Index(body, []byte(field))
	if i < 0 {
		clear(buf)
		t.Fatal("the token answer has no secret_key")
	}
	sk := body[i+len(field):]
	sk = sk[:bytes.IndexByte(sk, '"')]
	if len(sk) < 16 {
		clear(buf)
		t.Fatalf("secret key of %d bytes: too short to count copies of", len(sk))
	}
	return memguard.NewBufferFromBytes(sk) // wipes sk
}

// roundTrip writes one request and reads its answer into buf with no
// buffer but buf: a Content-Length body or a chunked one. It returns the
// status and the body (chunked framing left in).
func roundTrip(t *testing.T, c net.Conn, buf []byte, req string) (int, []byte) {
	t.Helper()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		if n == len(buf) {
			t.Fatal("answer larger than the buffer")
		}
		m, err := c.Read(buf[n:])
		n += m
		if err != nil {
			t.Fatalf("read answer: %v", err)
		}
		head, body, ok := bytes.Cut(buf[:n], []byte("\r\n\r\n"))
		if !ok {
			continue
		}
		status, _ := strconv.Atoi(string(bytes.Fields(head)[1]))
		lower := bytes.ToLower(head)
		if i := bytes.Index(lower, []byte("\ncontent-length: ")); i >= 0 {
			v := head[i+len("\ncontent-length: "):]
			if j := bytes.IndexByte(v, '\r'); j >= 0 {
				v = v[:j]
			}
			want, _ := strconv.Atoi(string(v))
			if len(body) >= want {
				return status, body[:want]
			}
			continue
		}
		if bytes.HasSuffix(body, []byte("\r\n0\r\n\r\n")) || bytes.Equal(body, []byte("0\r\n\r\n")) {
			return status, body
		}
	}
}

// countCopies reads every readable mapping of this process through
// /proc/self/mem and counts needle's occurrences in mlocked mappings and in
// the others. It reads into an anonymous mapping of its own, which it skips.
func countCopies(t *testing.T, needle []byte) (locked, unlocked int) {
	t.Helper()
	// A non-dumpable process's /proc/self/mem belongs to root: let the scan
	// read it, then close it again.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	defer unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	const chunk = 1 << 20
	scratch, err := unix.Mmap(-1, 0, chunk, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(scratch)
	mem, err := os.Open("/proc/self/mem")
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	for _, m := range mappings(t) {
		if m.start == scratchStart(scratch) || !m.readable || m.name == "[vvar]" || m.name == "[vsyscall]" || m.name == "[vvar_vclock]" {
			continue
		}
		// Chunks overlap by len(needle)-1 so that no copy is cut in two.
		for off := m.start; off < m.end; off += chunk - uint64(len(needle)) + 1 {
			n := min(uint64(chunk), m.end-off)
			got, err := mem.ReadAt(scratch[:n], int64(off))
			if err != nil && !errors.Is(err, io.EOF) && got == 0 {
				break // an unreadable part (I/O memory, a guard page)
			}
			found := bytes.Count(scratch[:got], needle)
			if m.locked {
				locked += found
			} else {
				unlocked += found
				if found > 0 {
					t.Logf("unlocked copy in %x-%x %s at chunk %x", m.start, m.end, m.name, off)
				}
			}
			clear(scratch[:got])
			if off+n >= m.end {
				break
			}
		}
	}
	return locked, unlocked
}

func scratchStart(b []byte) uint64 { return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b)))) }

// mapping is one line of /proc/self/smaps.
type mapping struct {
	start, end uint64
	readable   bool
	locked     bool // VmFlags has "lo": mlocked (memguard's buffers)
	name       string
}

// mappings parses /proc/self/smaps.
func mappings(t *testing.T) []mapping {
	t.Helper()
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	var out []mapping
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if f[0] == "VmFlags:" && len(out) > 0 {
			for _, flag := range f[1:] {
				if flag == "lo" {
					out[len(out)-1].locked = true
				}
			}
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok || len(f) < 5 || strings.HasSuffix(f[0], ":") {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		m := mapping{start: start, end: end, readable: strings.HasPrefix(f[1], "r")}
		if len(f) >= 6 {
			m.name = f[5]
		}
		out = append(out, m)
	}
	return out
}
