// Command relay measures what the tokentray relay adds to a refresh: p50/p99 of
// POST /v1/refresh through the relay, alone and with a shared store (a redis-server
// child), beside a direct refresh_token grant at the simulated exchange, all at the
// same fixed request rate, and the relay's memory (VmRSS, VmHWM of the relay process).
// It prints Markdown tables.
//
//	go run ./internal/bench/relay [-rate 50] [-d 10s] [-conns 50] [-relay-bin PATH]
//
// The relays are the real binary (built with CGO_ENABLED=0 unless -relay-bin names
// one), run as child processes; the simulated exchange runs in this process. Without
// redis-server the store row is left out. Everything is on loopback and bounded: at
// most 1000 requests a second for at most 2 minutes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"runtime"
	"time"
)

// Bounds on the load, so that a typo cannot turn the benchmark into a flood.
const (
	maxRate     = 1000
	maxDuration = 2 * time.Minute
	maxConns    = 1000
)

// options are the benchmark's flags.
type options struct {
	rate     int           // requests a second, both paths
	duration time.Duration // of each measured phase
	conns    int           // connections refreshed in turn; each is refreshed every conns/rate s
	relayBin string        // "" builds ./cmd/tokentray-relay
}

func main() {
	var o options
	flag.IntVar(&o.rate, "rate", 50, "requests a `second` on each path (at most 1000)")
	flag.DurationVar(&o.duration, "d", 10*time.Second, "how long each path is measured (at most 2m)")
	flag.IntVar(&o.conns, "conns", 50, "`connections` refreshed in turn (at most 1000)")
	flag.StringVar(&o.relayBin, "relay-bin", "", "the relay `binary`; default: build ./cmd/tokentray-relay")
	flag.Parse()
	if err := o.check(); err != nil {
		fmt.Fprintln(os.Stderr, "bench-relay:", err)
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func (o options) check() error {
	switch {
	case o.rate < 1 || o.rate > maxRate:
		return fmt.Errorf("-rate %d: want 1 to %d", o.rate, maxRate)
	case o.duration < 100*time.Millisecond || o.duration > maxDuration:
		return fmt.Errorf("-d %s: want 100ms to %s", o.duration, maxDuration)
	case o.conns < 1 || o.conns > maxConns:
		return fmt.Errorf("-conns %d: want 1 to %d", o.conns, maxConns)
	}
	return nil
}

// run measures both paths and writes the tables to w.
func run(ctx context.Context, o options, w io.Writer) error {
	dir, err := os.MkdirTemp("", "bench-relay")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	ex, err := startExchange()
	if err != nil {
		return err
	}
	defer ex.close()
	bin := o.relayBin
	if bin == "" {
		if bin, err = buildRelay(ctx, dir); err != nil {
			return err
		}
	}
	rl, err := startRelay(ctx, bin, dir, "relay", ex, "")
	if err != nil {
		return err
	}
	defer rl.stop()
	idle, err := readMemory(rl.cmd.Process.Pid)
	if err != nil {
		return err
	}

	direct := newDirectPath(ex, o.conns)
	relayed, err := newRelayPath(rl, "refresh through the relay", o.conns)
	if err != nil {
		return err
	}
	paths := []path{direct, relayed}
	// The processes whose CPU time each path costs: none for direct (the exchange runs
	// in this process), the relay, the relay and redis-server.
	pids := [][]int{nil, {rl.cmd.Process.Pid}}
	switch rs, err := startRedis(ctx, dir); {
	case errors.Is(err, errNoRedis):
		fmt.Fprintln(os.Stderr, "bench-relay: redis-server is not installed; no row with the shared store")
	case err != nil:
		return err
	default:
		defer rs.stop()
		rls, err := startRelay(ctx, bin, dir, "relay-store", ex, rs.url())
		if err != nil {
			return err
		}
		defer rls.stop()
		stored, err := newRelayPath(rls, "refresh through the relay with a shared store", o.conns)
		if err != nil {
			return err
		}
		paths = append(paths, stored)
		pids = append(pids, []int{rls.cmd.Process.Pid, rs.cmd.Process.Pid})
	}
	// Warm up every path: one request per connection, kept-alive connections opened.
	for _, p := range paths {
		if _, err := measure(ctx, p, o.rate*2, o.conns); err != nil {
			return fmt.Errorf("warm-up %s: %w", p.name(), err)
		}
	}
	n := o.rate * int(o.duration/time.Millisecond) / 1000
	if n < 1 {
		n = 1
	}
	var results []*result
	for i, p := range paths {
		before, err := cpuOf(pids[i])
		if err != nil {
			return err
		}
		r, err := measure(ctx, p, o.rate, n)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name(), err)
		}
		after, err := cpuOf(pids[i])
		if err != nil {
			return err
		}
		r.cpu = after - before
		results = append(results, r)
	}
	loaded, err := readMemory(rl.cmd.Process.Pid)
	if err != nil {
		return err
	}
	if err := rl.stop(); err != nil {
		return fmt.Errorf("relay exit: %w", err)
	}
	writeTables(w, o, results, idle, loaded)
	failed := 0
	for _, r := range results {
		failed += r.errors
	}
	if failed > 0 {
		return errors.New("some requests failed; see the table")
	}
	return nil
}

// cpuOf sums the CPU time the processes pids have used so far.
func cpuOf(pids []int) (time.Duration, error) {
	var sum time.Duration
	for _, pid := range pids {
		d, err := readCPU(pid)
		if err != nil {
			return 0, err
		}
		sum += d
	}
	return sum, nil
}

// writeTables prints the latency, CPU and memory tables.
func writeTables(w io.Writer, o options, rs []*result, idle, loaded memory) {
	fmt.Fprintf(w, "Refresh latency at %d requests/s for %s over %d connections (%s, %d CPUs, loopback)\n\n",
		o.rate, o.duration, o.conns, runtime.Version(), runtime.NumCPU())
	fmt.Fprintln(w, "| path | requests | errors | p50 | p90 | p99 | max |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	for _, r := range rs {
		fmt.Fprintf(w, "| %s | %d | %d | %s | %s | %s | %s |\n", r.name, len(r.latencies), r.errors,
			ms(r.quantile(0.50)), ms(r.quantile(0.90)), ms(r.quantile(0.99)), ms(r.quantile(1)))
	}
	d := rs[0]
	for i, rl := range rs[1:] {
		label := "relay overhead"
		if i == 1 {
			label = "relay overhead with the store"
		}
		fmt.Fprintf(w, "| %s | | | %s | %s | %s | |\n", label,
			ms(rl.quantile(0.50)-d.quantile(0.50)), ms(rl.quantile(0.90)-d.quantile(0.90)), ms(rl.quantile(0.99)-d.quantile(0.99)))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| server CPU time per refresh | µs | refreshes/s one core sustains |")
	fmt.Fprintln(w, "|---|---:|---:|")
	for _, r := range rs[1:] {
		if len(r.latencies) == 0 || r.cpu <= 0 {
			continue
		}
		per := r.cpu / time.Duration(len(r.latencies))
		fmt.Fprintf(w, "| %s | %d | %d |\n", r.name, per.Microseconds(), time.Second/per)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| relay memory | VmRSS | VmHWM (peak) |")
	fmt.Fprintln(w, "|---|---:|---:|")
	fmt.Fprintf(w, "| started, idle | %s | %s |\n", mib(idle.rss), mib(idle.hwm))
	fmt.Fprintf(w, "| after the load | %s | %s |\n", mib(loaded.rss), mib(loaded.hwm))
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

func mib(kb int64) string {
	return fmt.Sprintf("%.1f MiB", float64(kb)/1024)
}
