//go:build !windows

package browser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestKeepEnvironment: a browser started after KeepEnvironment gets the
// environment kept, not the one the process changed to since (the demo
// moves XDG_CONFIG_HOME into its temporary home).
func TestKeepEnvironment(t *testing.T) {
	t.Cleanup(func() { environ.Store(nil) })
	out := filepath.Join(t.TempDir(), "seen")
	t.Setenv("TOKENTRAY_TEST_MARK", "kept")
	KeepEnvironment(os.Environ())
	t.Setenv("TOKENTRAY_TEST_MARK", "changed")
	if err := startDetached([]string{"sh", "-c", `printf %s "$TOKENTRAY_TEST_MARK" >"$0.tmp" && mv "$0.tmp" "$0"`, out}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(out)
		if err == nil {
			if got := strings.TrimSpace(string(b)); got != "kept" {
				t.Fatalf("the browser saw TOKENTRAY_TEST_MARK=%q, want the kept %q", got, "kept")
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the started program wrote nothing within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
