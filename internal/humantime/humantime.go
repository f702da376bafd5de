// Package humantime reads and says durations as people write them: "5m",
// "5 minutes", "1 hour 30 minutes"; "3 h 12 min left", "until 14:32". The
// tray app and the tokentray command share it, so a time typed in either
// reads the same. It links only the standard library's basics: the CLI
// imports it, and a CLI call must stay as cheap as a hello-world.
package humantime

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrSyntax is what Parse says about input it cannot read; it shows how to
// write a time, as a clause that a sentence can end with.
var ErrSyntax = errors.New(`write a time like "10 minutes", "1 hour" or "90s"`)

// units are the words Parse takes after a number.
var units = map[string]time.Duration{
	"ms": time.Millisecond,
	"s":  time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hrs": time.Hour, "hour": time.Hour, "hours": time.Hour,
}

// Parse reads a duration as a person types it: a Go duration ("5m",
// "1h30m", "90s", "0") or numbers with units in words ("5 minutes", "5 min",
// "5minutes", "1 h 30 min", "1 hour, 30 minutes", "1 hour and 30 minutes").
// Case and spaces do not matter. A bare number other than 0, an unknown unit
// and a negative time are refused with ErrSyntax.
func Parse(s string) (time.Duration, error) {
	rest := strings.ToLower(strings.TrimSpace(s))
	if rest == "" {
		return 0, ErrSyntax
	}
	if d, err := time.ParseDuration(rest); err == nil {
		if d < 0 {
			return 0, ErrSyntax
		}
		return d, nil
	}
	var total float64
	for rest != "" {
		num := prefix(rest, func(r byte) bool { return r >= '0' && r <= '9' || r == '.' })
		if num == "" {
			return 0, ErrSyntax
		}
		n, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, ErrSyntax
		}
		rest = strings.TrimLeft(rest[len(num):], " ")
		word := prefix(rest, func(r byte) bool { return r >= 'a' && r <= 'z' })
		unit, ok := units[word]
		if !ok {
			return 0, ErrSyntax
		}
		total += n * float64(unit)
		rest = strings.TrimLeft(rest[len(word):], " ")
		rest = strings.TrimPrefix(rest, ",")
		rest = strings.TrimLeft(rest, " ")
		if after, ok := strings.CutPrefix(rest, "and "); ok {
			rest = strings.TrimLeft(after, " ")
		}
	}
	return time.Duration(total).Round(time.Millisecond), nil
}

// prefix returns the longest start of s whose bytes all satisfy in.
func prefix(s string, in func(byte) bool) string {
	i := 0
	for i < len(s) && in(s[i]) {
		i++
	}
	return s[:i]
}

// Words says a duration as people read it: "10 minutes", "1 hour 30
// minutes", "45 seconds". It is exact to the second, so "10m0s" reads "10
// minutes".
func Words(d time.Duration) string {
	d = d.Round(time.Second)
	if d <= 0 {
		return "0 seconds"
	}
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	var parts []string
	add := func(n int, unit string) {
		if n == 1 {
			parts = append(parts, "1 "+unit)
		} else if n > 1 {
			parts = append(parts, fmt.Sprintf("%d %ss", n, unit))
		}
	}
	add(h, "hour")
	add(m, "minute")
	add(s, "second")
	return strings.Join(parts, " ")
}

// Left is the time left until expiresAt as people read it: "3 h 12 min
// left", "12 min left", "45 s left", "expired", "no key yet" (zero time).
// Minutes and hours round down, so it never promises more time than there
// is.
func Left(now, expiresAt time.Time) string {
	if expiresAt.IsZero() {
		return "no key yet"
	}
	d := expiresAt.Sub(now)
	switch {
	case d <= 0:
		return "expired"
	case d < time.Minute:
		return fmt.Sprintf("%d s left", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min left", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h %d min left", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%d d %d h left", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}

// Until is the expiry as a clock time in now's location beside the time
// left: "until 14:32, 3 h 12 min left"; an expiry 20 hours or more away
// names the day ("until Tue 14:32, 1 d 2 h left"), one 6 days or more away
// the date ("until 1 Jan 2030 00:00, 1125 d 5 h left"). A past or zero
// expiry reads as Left does.
func Until(now, expiresAt time.Time) string {
	left := Left(now, expiresAt)
	if expiresAt.IsZero() || !expiresAt.After(now) {
		return left
	}
	at := expiresAt.In(now.Location())
	clock := at.Format("15:04")
	switch d := expiresAt.Sub(now); {
	case d >= 6*24*time.Hour:
		clock = at.Format("2 Jan 2006 15:04")
	case d >= 20*time.Hour:
		clock = at.Format("Mon 15:04")
	}
	return "until " + clock + ", " + left
}
