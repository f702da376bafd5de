package cli_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/localclient"
)

// BenchmarkTokenProcess measures a whole `tokentray token` process (start,
// one socket call, print, exit) for the CLI binary (cmd/tokentray) and for
// the whole program (tokentray-app, GUI and nogui builds), against an agent
// connected to the simulated exchange. internal/bench/cli sets the CLI
// beside a Go hello-world instead (README, "Benchmarks").
//
//	go test -run '^$' -bench TokenProcess ./internal/cli/
func BenchmarkTokenProcess(b *testing.B) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		b.Skip("no go command in PATH")
	}
	w := startWorld(b)
	if _, err := w.Client.Connect(context.Background(),
		localclient.ConnectRequest{Provider: devstack.ProviderID}, nil); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	builds := []struct {
		name string
		env  []string
		args []string
		pkg  string
	}{
		{"cli", []string{"CGO_ENABLED=0"}, nil, "./cmd/tokentray"},
		{"app-gui", nil, nil, "."},
		{"app-nogui", []string{"CGO_ENABLED=0"}, []string{"-tags", "nogui"}, "."},
	}
	for _, bd := range builds {
		bin := filepath.Join(dir, "tokentray-"+bd.name)
		args := append(append([]string{"build"}, bd.args...), "-o", bin, bd.pkg)
		cmd := exec.Command(goBin, args...)
		cmd.Dir = moduleRoot
		cmd.Env = append(os.Environ(), bd.env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("build %s: %v\n%s", bd.name, err, out)
		}
		b.Run(bd.name, func(b *testing.B) {
			for b.Loop() {
				cmd := exec.Command(bin, "token")
				cmd.Env = append(os.Environ(), "TOKENTRAY_SOCK="+w.Socket)
				if out, err := cmd.Output(); err != nil || len(out) < 10 {
					b.Fatalf("tokentray-%s token: %v", bd.name, err)
				}
			}
		})
	}
}
