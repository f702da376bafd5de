package humantime

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"5m", 5 * time.Minute, true},
		{"5 minutes", 5 * time.Minute, true},
		{"5minutes", 5 * time.Minute, true},
		{"5 min", 5 * time.Minute, true},
		{"1 minute", time.Minute, true},
		{"1 h 30 min", 90 * time.Minute, true},
		{"1 hour 30 minutes", 90 * time.Minute, true},
		{"1h30m", 90 * time.Minute, true},
		{"1h 30m", 90 * time.Minute, true},
		{"1 hour, 30 minutes", 90 * time.Minute, true},
		{"1 hour and 30 minutes", 90 * time.Minute, true},
		{"90s", 90 * time.Second, true},
		{"90 secs", 90 * time.Second, true},
		{" 2 Hours ", 2 * time.Hour, true},
		{"1.5h", 90 * time.Minute, true},
		{"1.5 hours", 90 * time.Minute, true},
		{"500ms", 500 * time.Millisecond, true},
		{"0", 0, true},
		{"0s", 0, true},
		{"", 0, false},
		{"   ", 0, false},
		{"5", 0, false},
		{"five minutes", 0, false},
		{"5 fortnights", 0, false},
		{"-5m", 0, false},
		{"-5 minutes", 0, false},
		{"5 minutes ago", 0, false},
		{"minutes", 0, false},
		{"1..5h", 0, false},
		{"5m and", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("Parse(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "10 minutes") {
				t.Fatalf("Parse(%q) error %q does not show how to write it", tt.in, err)
			}
		})
	}
}

func TestWords(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{10 * time.Minute, "10 minutes"},
		{time.Minute, "1 minute"},
		{90 * time.Minute, "1 hour 30 minutes"},
		{2 * time.Hour, "2 hours"},
		{45 * time.Second, "45 seconds"},
		{0, "0 seconds"},
	}
	for _, tt := range tests {
		if got := Words(tt.d); got != tt.want {
			t.Errorf("Words(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestUntil(t *testing.T) {
	now := time.Date(2026, 3, 1, 11, 20, 0, 0, time.UTC) // a Sunday
	tests := []struct {
		name string
		at   time.Time
		want string
	}{
		{"hours", now.Add(3*time.Hour + 12*time.Minute + 59*time.Second), "until 14:32, 3 h 12 min left"},
		{"minutes", now.Add(12*time.Minute + 30*time.Second), "until 11:32, 12 min left"},
		{"seconds", now.Add(45 * time.Second), "until 11:20, 45 s left"},
		{"tomorrow", now.Add(26 * time.Hour), "until Mon 13:20, 1 d 2 h left"},
		{"next week", now.Add(7*24*time.Hour + 2*time.Hour), "until 8 Mar 2026 13:20, 7 d 2 h left"},
		{"past", now.Add(-time.Minute), "expired"},
		{"zero", time.Time{}, "no key yet"},
	}
	for _, tt := range tests {
		if got := Until(now, tt.at); got != tt.want {
			t.Errorf("%s: Until = %q, want %q", tt.name, got, tt.want)
		}
	}
	// The clock is now's zone, not the expiry's.
	east := time.FixedZone("UTC+2", 2*60*60)
	if got, want := Until(now.In(east), now.Add(time.Hour)), "until 14:20, 1 h 0 min left"; got != want {
		t.Errorf("Until in UTC+2 = %q, want %q", got, want)
	}
}

func TestLeft(t *testing.T) {
	tests := []struct {
		name string
		left time.Duration
		want string
	}{
		{"hours and minutes", 3*time.Hour + 12*time.Minute + 59*time.Second, "3 h 12 min left"},
		{"whole hours", 4 * time.Hour, "4 h 0 min left"},
		{"minutes", 12*time.Minute + 30*time.Second, "12 min left"},
		{"one minute", time.Minute, "1 min left"},
		{"seconds", 45 * time.Second, "45 s left"},
		{"days", 50 * time.Hour, "2 d 2 h left"},
		{"exactly now", 0, "expired"},
		{"past", -time.Hour, "expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Left(now0, now0.Add(tt.left)); got != tt.want {
				t.Fatalf("Left(%v) = %q, want %q", tt.left, got, tt.want)
			}
		})
	}
	if got := Left(now0, time.Time{}); got != "no key yet" {
		t.Fatalf("Left(zero) = %q, want %q", got, "no key yet")
	}
}

var now0 = time.Date(2026, 3, 1, 11, 20, 0, 0, time.UTC)
