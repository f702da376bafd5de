package browser

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/relayproto"
	"github.com/tokentray/tokentray/relayproto/prototest"
)

// fakeBrowser writes a script that records its arguments, one per line.
func fakeBrowser(t *testing.T, dir, name string) (path, out string) {
	t.Helper()
	out = filepath.Join(dir, name+".out")
	path = filepath.Join(dir, name)
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > " + out + ".tmp && mv " + out + ".tmp " + out + "\n"
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return path, out
}

func waitFile(t *testing.T, path string) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil {
			return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("browser never wrote %s", path)
	return nil
}

func TestFromEnv(t *testing.T) {
	const u = "https://f1cx.com/oauth/authorize?client_id=a&state=b%20c"
	tests := []struct {
		name    string
		browser string // BIN stands for the fake browser
		want    []string
	}{
		{name: "appended", browser: "BIN", want: []string{u}},
		{name: "percent s with args", browser: "BIN --new-window %s --x", want: []string{"--new-window", u, "--x"}},
		{name: "inside an argument", browser: "BIN --url=%s", want: []string{"--url=" + u}},
		{name: "first fails, next starts", browser: "/nonexistent/browser %s:BIN", want: []string{u}},
		{name: "empty entries skipped", browser: "::BIN", want: []string{u}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin, out := fakeBrowser(t, t.TempDir(), "browser")
			env := func(k string) string {
				if k == "BROWSER" {
					return strings.ReplaceAll(tt.browser, "BIN", bin)
				}
				return "" // no DISPLAY, no WAYLAND_DISPLAY
			}
			fallback := func(context.Context, string) error { t.Error("fallback used though BROWSER is set"); return nil }
			if err := FromEnv(env, fallback)(context.Background(), u); err != nil {
				t.Fatalf("open: %v", err)
			}
			if got := waitFile(t, out); !slices.Equal(got, tt.want) {
				t.Errorf("browser argv = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFromEnvFallbackAndFailures(t *testing.T) {
	var got string
	fallback := func(_ context.Context, u string) error { got = u; return nil }
	unset := func(string) string { return "" }
	if err := FromEnv(unset, fallback)(context.Background(), "https://x.example/a"); err != nil || got != "https://x.example/a" {
		t.Errorf("unset BROWSER: err %v, fallback got %q", err, got)
	}
	all := func(string) string { return "/nonexistent/a:/nonexistent/b %s" }
	err := FromEnv(all, fallback)(context.Background(), "https://x.example/secret-query")
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/b") {
		t.Fatalf("all browsers failing = %v, want an error naming them", err)
	}
	if strings.Contains(err.Error(), "secret-query") {
		t.Errorf("error %q holds the URL", err)
	}
}

func TestRefusedURLs(t *testing.T) {
	bin, out := fakeBrowser(t, t.TempDir(), "browser")
	env := func(string) string { return bin }
	open := FromEnv(env, func(context.Context, string) error { t.Error("fallback called"); return nil })
	for _, u := range []string{
		"-https://x.example", "--help", "http://relay.example.com/x", "file:///etc/passwd", "javascript:alert(1)",
		"https://", "ftp://127.0.0.1/", "https://a.example/\nx", "", "/relative",
	} {
		if err := open(context.Background(), u); !errors.Is(err, relayproto.ErrURLRefused) {
			t.Errorf("open(%q) = %v, want relayproto.ErrURLRefused", u, err)
		}
		if err := XDGOpen(context.Background(), u); !errors.Is(err, relayproto.ErrURLRefused) {
			t.Errorf("XDGOpen(%q) = %v, want relayproto.ErrURLRefused", u, err)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused URL reached the browser")
	}
	for _, u := range []string{"http://127.0.0.1:8787/x", "http://[::1]:1/", "http://localhost:1/"} {
		if err := CheckURL(u); err != nil {
			t.Errorf("CheckURL(%q) = %v, want loopback http allowed", u, err)
		}
	}
}

// TestCheckURLSharesTheRelayRule checks the opener against the cases the relay and the
// device's relay URL are checked against (relayproto/prototest).
func TestCheckURLSharesTheRelayRule(t *testing.T) {
	for _, tc := range prototest.URLs {
		if err := CheckURL(tc.URL); (err == nil) != tc.OK {
			t.Errorf("CheckURL(%q) = %v, want ok %v", tc.URL, err, tc.OK)
		}
	}
}
