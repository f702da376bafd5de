package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	builtPath string
	buildErr  error
	buildDir  string
)

// TestMain removes the binary built for the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// relayBinary builds the relay once per test run with CGO_ENABLED=0, as
// deploy/Dockerfile does, and returns its path. It leaves out the Dockerfile's
// -trimpath, which changes nothing the tests look at but keeps the build from
// sharing the cache with make build: with it, every package the relay links was
// compiled again inside this package's test time (minutes on a busy machine).
func relayBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the relay binary")
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "tokentray-relay-test")
		if buildErr != nil {
			return
		}
		builtPath = filepath.Join(buildDir, "tokentray-relay")
		cmd := exec.Command("go", "build", "-o", builtPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			buildErr = err
			builtPath = out.String()
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v\n%s", buildErr, builtPath)
	}
	return builtPath
}

func TestBinaryIsStatic(t *testing.T) {
	bin := relayBinary(t)
	ldd, err := exec.LookPath("ldd")
	if err != nil {
		t.Skip("ldd is not installed")
	}
	out, _ := exec.Command(ldd, bin).CombinedOutput() // ldd exits 1 for a static binary
	if s := string(out); !strings.Contains(s, "not a dynamic executable") && !strings.Contains(s, "statically linked") {
		t.Errorf("ldd %s:\n%s\nwant a static binary", filepath.Base(bin), s)
	}
	info, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	if !strings.Contains(string(info), "CGO_ENABLED=0") {
		t.Errorf("build settings lack CGO_ENABLED=0:\n%s", info)
	}
	for _, unwanted := range []string{"fyne.io/", "memguard", "go-keyring"} {
		if strings.Contains(string(info), unwanted) {
			t.Errorf("the relay binary links %s, a device-side module", unwanted)
		}
	}
}
