// Command cli measures what a trading script pays for one `tokentray token`
// call: the whole process (start, one socket call, print, exit) of the
// installed tokentray, against a Go hello-world run in the same loop, pair by
// pair, so that both see the same machine. It prints a Markdown table of the
// medians and the ratios (README, "Numbers").
//
//	make install                       # or any tokentray + tokentray-app pair
//	go run ./internal/bench/cli [-bin PATH] [-n 40]
//
// The agent is a real one: `tokentray demo --headless` (simulated exchange,
// relay, memory vault, temporary home), connected through
// scripts/browser-approve. Nothing of the user's is touched.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("bin", "tokentray", "the tokentray to measure (default: the one on PATH)")
	n := flag.Int("n", 40, "paired runs")
	flag.Parse()
	path, err := exec.LookPath(*bin)
	if err != nil {
		log.Fatalf("find %s: %v (run make install first, or pass -bin)", *bin, err)
	}
	if err := run(path, *n); err != nil {
		log.Fatal(err)
	}
}

// sample is one process's cost.
type sample struct{ wall, cpu time.Duration }

func run(bin string, n int) error {
	dir, err := os.MkdirTemp("", "bench-cli")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	hello, err := buildHello(dir)
	if err != nil {
		return err
	}
	approve, err := filepath.Abs(filepath.Join("scripts", "browser-approve"))
	if err != nil {
		return err
	}
	if _, err := os.Stat(approve); err != nil {
		return fmt.Errorf("run from the repository's root (needs scripts/browser-approve): %w", err)
	}
	sock := filepath.Join(dir, "agent.sock")
	stop, err := startDemo(bin, sock, approve)
	if err != nil {
		return err
	}
	defer stop()
	env := append(os.Environ(), "TOKENTRAY_SOCK="+sock)
	if err := connect(bin, env); err != nil {
		return err
	}
	cases := []struct {
		name string
		args []string
	}{
		{"go hello-world", []string{hello}},
		{"tokentray token exchange", []string{bin, "token", "exchange"}},
		{"tokentray token", []string{bin, "token"}},
		{"tokentray sign exchange GET /api/v2/orders", []string{bin, "sign", "exchange", "GET", "/api/v2/orders", "market=btcusd"}},
	}
	samples := make([][]sample, len(cases))
	for i := range n + 3 {
		for c, tc := range cases {
			s, err := measure(tc.args, env)
			if err != nil {
				return fmt.Errorf("%s: %w", tc.name, err)
			}
			if i >= 3 { // the first rounds warm the page cache
				samples[c] = append(samples[c], s)
			}
		}
	}
	base := median(samples[0])
	fmt.Printf("%d paired runs of %s on %d cores\n\n", n, bin, runtime.NumCPU())
	fmt.Println("| process | median wall | median CPU | wall / hello | CPU / hello |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for c, tc := range cases {
		m := median(samples[c])
		fmt.Printf("| %s | %.2f ms | %.2f ms | %.2f× | %.2f× |\n", tc.name,
			ms(m.wall), ms(m.cpu), float64(m.wall)/float64(base.wall), float64(m.cpu)/float64(base.cpu))
	}
	return nil
}

// measure runs one process to its end and returns its wall and CPU time
// (user + system, from the kernel's accounting of the child).
func measure(args, env []string) (sample, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = env
	start := time.Now()
	out, err := cmd.Output()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%v: %w", args, err)
	}
	if len(out) == 0 {
		return sample{}, fmt.Errorf("%v printed nothing", args)
	}
	return sample{wall: wall, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}, nil
}

// median returns the median wall and the median CPU, each on its own.
func median(s []sample) sample {
	walls := make([]time.Duration, len(s))
	cpus := make([]time.Duration, len(s))
	for i, x := range s {
		walls[i], cpus[i] = x.wall, x.cpu
	}
	slices.Sort(walls)
	slices.Sort(cpus)
	return sample{wall: walls[len(s)/2], cpu: cpus[len(s)/2]}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// buildHello builds the baseline: a Go program that prints one line.
func buildHello(dir string) (string, error) {
	src := filepath.Join(dir, "hello")
	if err := os.MkdirAll(src, 0o700); err != nil {
		return "", err
	}
	files := map[string]string{
		"go.mod":  "module hello\n\ngo 1.24\n",
		"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(text), 0o600); err != nil {
			return "", err
		}
	}
	bin := filepath.Join(dir, "hello-bin")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build hello-world: %v\n%s", err, out)
	}
	return bin, nil
}

// startDemo runs `tokentray demo --headless` on sock, with browser as the
// agent's $BROWSER, and waits for its export line, which it prints once the
// agent serves.
func startDemo(bin, sock, browser string) (stop func(), err error) {
	cmd := exec.Command(bin, "demo", "--headless")
	cmd.Env = append(os.Environ(), "TOKENTRAY_SOCK="+sock, "BROWSER="+browser)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s demo: %w", bin, err)
	}
	stop = func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "export TOKENTRAY_SOCK=") {
				ready <- nil
				return
			}
		}
		ready <- errors.New("the demo ended before it printed its socket")
	}()
	select {
	case err = <-ready:
	case <-time.After(60 * time.Second):
		err = errors.New("the demo printed no socket within 60 s")
	}
	if err != nil {
		stop()
		return nil, err
	}
	return stop, nil
}

// connect connects the demo's exchange; the demo's $BROWSER approves.
func connect(bin string, env []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "connect", "exchange")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("tokentray connect exchange: %v\n%s", err, out)
	}
	return nil
}
