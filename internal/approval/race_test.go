package approval

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/appid"
)

// TestIdenticalRequestsShareOnePrompt races many identical requests: one
// prompt, one answer, every request through, the uses counted.
func TestIdenticalRequestsShareOnePrompt(t *testing.T) {
	const n = 50
	r := newRig(t)
	changed := r.tray()
	results := make([]<-chan error, n)
	for i := range results {
		results[i] = r.check(Request{App: curlApp, Connection: "ex1"})
	}
	p := r.waitPrompt(changed, n)
	if err := r.b.Answer(p.ID, AnswerAlways); err != nil {
		t.Fatal(err)
	}
	for _, res := range results {
		if err := result(t, res); err != nil {
			t.Fatal(err)
		}
	}
	if gs := r.b.Grants(); len(gs) != 1 || gs[0].Uses != n {
		t.Fatalf("grants %+v, want one with %d uses", gs, n)
	}
}

// TestRaceManyAppsAndAnswers races requests for several apps and
// connections against an answerer, cancellations, revocations and readers;
// run it with -race.
func TestRaceManyAppsAndAnswers(t *testing.T) {
	r := newRig(t)
	changed, cancel := r.b.Subscribe()
	defer cancel()
	ctx, stop := context.WithTimeout(context.Background(), 20*time.Second)
	defer stop()

	var wg sync.WaitGroup
	var answering sync.WaitGroup
	answering.Add(1)
	done := make(chan struct{})
	go func() { // the tray: answers everything, in turn Once, Always, Deny
		defer answering.Done()
		i := 0
		for {
			select {
			case <-changed:
			case <-done:
				return
			}
			for _, p := range r.b.Pending() {
				_ = r.b.Answer(p.ID, []Answer{AnswerOnce, AnswerAlways, AnswerDeny}[i%3])
				i++
			}
			for _, g := range r.b.Grants() {
				if g.Uses > 5 {
					_ = r.b.Revoke(g.ID)
				}
			}
			_, _ = MarshalGrants(r.b.Grants())
		}
	}()
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				app := appid.App{Kind: appid.Binary, Key: fmt.Sprintf("exe %d", (w+i)%4), Name: "app", PID: w}
				if i%7 == 0 {
					app = inlineApp
				}
				rctx := ctx
				if i%5 == 0 {
					c, cancel := context.WithCancel(ctx)
					cancel()
					rctx = c
				}
				_ = r.b.Check(rctx, Request{App: app, Connection: fmt.Sprintf("ex%d", i%2)})
				if i%11 == 0 {
					_, _ = r.b.Propose(Proposal{Script: fmt.Sprintf("/s/%d", i)})
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	answering.Wait()
	if ctx.Err() != nil {
		t.Fatal("requests were still waiting at the deadline")
	}
}
