package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// path is one way to refresh a connection's keys.
type path interface {
	name() string
	conns() int
	// refresh rotates connection i's keys; calls for one i never overlap.
	refresh(ctx context.Context, i int) error
}

// result is one measured phase.
type result struct {
	name      string
	cpu       time.Duration   // CPU time of the server processes of the path during the phase
	latencies []time.Duration // sorted
	errors    int
	firstErr  error
}

// quantile returns the q-quantile of the latencies (nearest rank).
func (r *result) quantile(q float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(q*float64(len(r.latencies))+0.5) - 1
	return r.latencies[min(max(i, 0), len(r.latencies)-1)]
}

// measure sends n refreshes at a fixed rate (open loop: request i starts at i/rate s
// whether or not earlier ones have answered), connection i%conns each, and records each
// latency from its scheduled start, so that a slow answer that delays the next use of
// its connection counts against the path too.
func measure(ctx context.Context, p path, rate, n int) (*result, error) {
	interval := time.Second / time.Duration(rate)
	locks := make([]sync.Mutex, p.conns())
	r := &result{name: p.name()}
	var mu sync.Mutex // guards r
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		at := start.Add(time.Duration(i) * interval)
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil, ctx.Err()
		case <-time.After(time.Until(at)):
		}
		wg.Go(func() {
			c := i % len(locks)
			locks[c].Lock()
			err := p.refresh(ctx, c)
			d := time.Since(at)
			locks[c].Unlock()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				r.errors++
				if r.firstErr == nil {
					r.firstErr = err
				}
				return
			}
			r.latencies = append(r.latencies, d)
		})
	}
	wg.Wait()
	slices.Sort(r.latencies)
	if r.errors == n {
		return nil, fmt.Errorf("every request failed, the first: %w", r.firstErr)
	}
	return r, nil
}

// memory is a process's resident set now and at its peak, in KiB.
type memory struct {
	rss, hwm int64
}

// readMemory reads VmRSS and VmHWM from /proc/PID/status.
func readMemory(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, fmt.Errorf("relay memory: %w", err)
	}
	defer f.Close()
	var m memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch key {
		case "VmRSS":
			dst = &m.rss
		case "VmHWM":
			dst = &m.hwm
		default:
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			return memory{}, fmt.Errorf("relay memory: %s %q: %w", key, val, err)
		}
		*dst = kb
	}
	if err := sc.Err(); err != nil {
		return memory{}, fmt.Errorf("relay memory: %w", err)
	}
	if m.rss == 0 {
		return memory{}, fmt.Errorf("relay memory: no VmRSS in /proc/%d/status", pid)
	}
	return m, nil
}

// clockTicks is Linux's USER_HZ, the unit of utime and stime in /proc/PID/stat.
const clockTicks = 100

// readCPU returns the CPU time (user + system) process pid has used so far.
func readCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("cpu time: %w", err)
	}
	// The command name (field 2) may hold spaces; the fields after it do not.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("cpu time: /proc/%d/stat has no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("cpu time: /proc/%d/stat is short", pid)
	}
	var ticks int64
	for _, v := range f[11:13] { // utime, stime: fields 14 and 15
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cpu time: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}
