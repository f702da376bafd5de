package agent

import (
	"context"
	"flag"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tokentray/tokentray/internal/fakeexchange"
)

var (
	soakDays = flag.Int("agent.soakdays", 365, "days of fake time the soak test runs")
	soakSeed = flag.Uint64("agent.soakseed", 0, "the soak test's random seed (0: a new one)")
)

// TestSoakYear lives through a year of 4-hour keys with the relay and the
// provider failing at random — down for hours, answering 500 or HTML, or
// losing an answer after the keys rotated — and checks that the connection
// is never lost, that every outage ends in a working key, and that no
// goroutine is left behind.
func TestSoakYear(t *testing.T) {
	if testing.Short() {
		t.Skip("the soak test is long; run without -short")
	}
	// memguard starts one global goroutine on first use; it is not ours.
	leaks := []goleak.Option{goleak.IgnoreCurrent(), goleak.IgnoreTopFunction("github.com/awnumar/memguard/core.NewCoffer.func1")}
	seed := uint64(time.Now().UnixNano())
	if *soakSeed != 0 {
		seed = *soakSeed
	}
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	e := newEnvTuned(t, func(c *Config) { c.WakeEvery = 3 * time.Hour })
	c := e.connect()
	e.idle()

	end := e.clock.Now().Add(time.Duration(*soakDays) * 24 * time.Hour)
	relayBackAt := time.Time{}
	// After a lost answer the new refresh token exists only in the relay's
	// 2-minute answer cache (docs/relay.md §3): an outage right then loses the
	// grant whatever the device does. The soak keeps outages clear of it.
	// The quiet window starts when the drop is spent, that is at the first step
	// after one that began with it pending: the clock may have jumped hours
	// since (seeds 1796150859861987811 and 1796151448984680912 lost the grant
	// that way, the second with a drop rolled and spent in the same step).
	var dropSeen time.Time
	wasPending := false
	hiccups, lastGen := 0, c.Generation
	for e.clock.Now().Before(end) {
		if !relayBackAt.IsZero() && !e.clock.Now().Before(relayBackAt) {
			e.stack.SetRelayDown(false)
			relayBackAt = time.Time{}
		}
		dropPending := e.stack.DropsPending() > 0
		if dropPending || wasPending {
			dropSeen = e.clock.Now()
		}
		recentDrop := dropPending || e.clock.Now().Sub(dropSeen) < 10*time.Minute
		if relayBackAt.IsZero() && !recentDrop && rng.IntN(40) == 0 {
			hiccups++
			kind := rng.IntN(4)
			t.Logf("day %.2f: hiccup %d", e.clock.Now().Sub(epoch).Hours()/24, kind)
			switch kind {
			case 0: // the relay is down for up to 3 hours
				e.stack.SetRelayDown(true)
				relayBackAt = e.clock.Now().Add(time.Duration(rng.IntN(180)+1) * time.Minute)
			case 1:
				e.stack.Exchange.FailNext("/oauth/token", 1+rng.IntN(3), fakeexchange.Fail500)
			case 2:
				e.stack.Exchange.FailNext("/oauth/token", 1, fakeexchange.FailNonJSON)
			case 3: // the keys rotate, but the answer is lost on the way back
				e.stack.DropRelayAnswers(1)
			}
		}
		wasPending = e.stack.DropsPending() > 0
		next, ok := e.clock.Next()
		if !ok {
			t.Fatal("the scheduler has no timer")
		}
		if !relayBackAt.IsZero() && relayBackAt.Before(next) {
			next = relayBackAt
		}
		e.clock.Set(next)
		e.idle()
		x, err := e.agent.Connection(c.ID)
		if err != nil || x.State == StateNeedsReconnect {
			t.Logf("agent log:\n%s", tail(e.logs.String(), 3000))
			t.Fatalf("day %.1f: the connection was lost: %+v, %v (last error %q)",
				e.clock.Now().Sub(epoch).Hours()/24, x, err, x.LastError)
		}
		if x.Generation < lastGen {
			t.Fatalf("generation went back from %d to %d", lastGen, x.Generation)
		}
		lastGen = x.Generation
	}
	e.stack.SetRelayDown(false)
	k, err := e.agent.Token(context.Background(), c.ID, time.Minute)
	if err != nil {
		t.Fatalf("after the year: %v", err)
	}
	if status, body := e.me(k); status != 200 {
		t.Fatalf("after the year the key answers %d %s", status, body)
	}
	wantMin := int64(*soakDays) * 24 / 4 * 9 / 10
	if k.Generation < wantMin {
		t.Fatalf("only %d refreshes in %d days (want at least %d)", k.Generation, *soakDays, wantMin)
	}
	t.Logf("%d days, %d hiccups, %d refreshes", *soakDays, hiccups, k.Generation)

	e.close()
	e.stack.Close()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	goleak.VerifyNone(t, leaks...)
}

func TestSuspendPastExpiryRefreshesAtOnce(t *testing.T) {
	e := newEnv(t)
	c := e.connect()
	e.idle()
	// The laptop sleeps for 9 hours: monotonic timers stood still, the wall
	// clock did not. The next wake (at most WakeEvery) sees it.
	e.clock.Set(c.ExpiresAt.Add(5 * time.Hour))
	waitFor(t, "the refresh after resume", func() bool { x, _ := e.agent.Connection(c.ID); return x.Generation == 2 })
	k, _ := e.agent.Token(context.Background(), c.ID, 0)
	if status, _ := e.me(k); status != 200 {
		t.Fatalf("the key after resume answers %d", status)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
