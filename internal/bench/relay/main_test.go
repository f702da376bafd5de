package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestOptionsBounded(t *testing.T) {
	ok := options{rate: 50, duration: 10 * time.Second, conns: 50}
	tests := []struct {
		name    string
		edit    func(*options)
		wantErr string
	}{
		{"defaults", func(*options) {}, ""},
		{"rate zero", func(o *options) { o.rate = 0 }, "-rate"},
		{"rate flood", func(o *options) { o.rate = maxRate + 1 }, "-rate"},
		{"too long", func(o *options) { o.duration = time.Hour }, "-d"},
		{"too short", func(o *options) { o.duration = time.Millisecond }, "-d"},
		{"no conns", func(o *options) { o.conns = 0 }, "-conns"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := ok
			tc.edit(&o)
			err := o.check()
			if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("check(%+v) = %v, want %q", o, err, tc.wantErr)
			}
		})
	}
}

func TestQuantile(t *testing.T) {
	r := &result{}
	for i := 1; i <= 100; i++ {
		r.latencies = append(r.latencies, time.Duration(i)*time.Millisecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 50 * time.Millisecond, 0.99: 99 * time.Millisecond, 1: 100 * time.Millisecond, 0: time.Millisecond} {
		if got := r.quantile(q); got != want {
			t.Errorf("quantile(%v) = %s, want %s", q, got, want)
		}
	}
	if got := (&result{}).quantile(0.5); got != 0 {
		t.Errorf("quantile of nothing = %s, want 0", got)
	}
}

func TestReadMemory(t *testing.T) {
	m, err := readMemory(os.Getpid())
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if m.rss <= 0 || m.hwm < m.rss {
		t.Errorf("memory = %+v, want 0 < VmRSS <= VmHWM", m)
	}
	if _, err := readMemory(-1); err == nil {
		t.Error("readMemory(-1) = nil error")
	}
}

// TestRunSmall runs the whole benchmark briefly: the real relay binary, every path (the
// store's when redis-server is installed).
func TestRunSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the relay binary")
	}
	var out bytes.Buffer
	if err := run(context.Background(), options{rate: 20, duration: 500 * time.Millisecond, conns: 4}, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	rows := []string{
		`| direct refresh_token at the exchange | 10 | 0 | `,
		`| refresh through the relay | 10 | 0 | `,
		`| relay overhead |`,
	}
	if _, err := exec.LookPath("redis-server"); err == nil {
		rows = append(rows, `| refresh through the relay with a shared store | 10 | 0 | `, `| relay overhead with the store |`)
	}
	for _, row := range rows {
		if !strings.Contains(out.String(), row) {
			t.Errorf("output lacks %q:\n%s", row, out.String())
		}
	}
	if !strings.Contains(out.String(), "| server CPU time per refresh |") {
		t.Errorf("output lacks the CPU table:\n%s", out.String())
	}
	if !regexp.MustCompile(`\| after the load \| \d+\.\d MiB \| \d+\.\d MiB \|`).MatchString(out.String()) {
		t.Errorf("output lacks the relay's memory:\n%s", out.String())
	}
}

func TestReadCPU(t *testing.T) {
	before, err := readCPU(os.Getpid())
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; { // burn a little CPU
		after, err := readCPU(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if after > before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("CPU time stayed at %s for 10 s of spinning", before)
		}
	}
	if _, err := readCPU(-1); err == nil {
		t.Error("readCPU(-1) = nil error")
	}
}
