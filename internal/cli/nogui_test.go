package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// goTool returns the go command, or skips the test without one.
func goTool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH")
	}
	return p
}

// moduleRoot is the repository root, where main.go lives.
const moduleRoot = "../.."

// offenders lists what `go list -deps -f '{{.ImportPath}} {{.Standard}}
// {{len .CgoFiles}}'` shows of Fyne and of cgo outside the standard library
// (whose net and os/user only use cgo when it is enabled).
func offenders(listing string) []string {
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(listing), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		if strings.HasPrefix(f[0], "fyne.io/") || (f[1] == "false" && f[2] != "0") {
			out = append(out, f[0])
		}
	}
	return out
}

func goList(t *testing.T, tags string, pkgs ...string) string {
	t.Helper()
	args := append([]string{"list", "-deps", "-tags", tags, "-f", "{{.ImportPath}} {{.Standard}} {{len .CgoFiles}}"}, pkgs...)
	cmd := exec.Command(goTool(t), args...)
	cmd.Dir = moduleRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestNoguiBuildHasNoFyneAndNoCgo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list and go build")
	}
	listing := goList(t, "nogui", ".")
	if !strings.Contains(listing, "github.com/tokentray/tokentray/internal/cli ") {
		t.Fatalf("go list shows no internal/cli in the nogui build:\n%s", listing)
	}
	if bad := offenders(listing); len(bad) > 0 {
		t.Fatalf("the nogui build depends on Fyne or cgo through: %s", strings.Join(bad, ", "))
	}
	// The check can fail: Fyne's app package is both.
	if bad := offenders(goList(t, "", "fyne.io/fyne/v2/app")); len(bad) == 0 {
		t.Fatal("offenders found nothing in fyne.io/fyne/v2/app; the check is blind")
	}
	bin := filepath.Join(t.TempDir(), "tokentray-nogui")
	cmd := exec.Command(goTool(t), "build", "-tags", "nogui", "-o", bin, ".")
	cmd.Dir = moduleRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build -tags nogui: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).CombinedOutput()
	if code := exitCodeOf(err); code != 2 || !strings.Contains(string(out), "this build has no tray app") {
		t.Fatalf("tokentray-nogui without arguments: exit %d, %q; want 2 and a clear message", code, out)
	}
}

func exitCodeOf(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}
