package devstack

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// browseTimeout bounds one walk of Browse: the exchange, the relay and the
// agent's loopback all answer at once on this machine.
const browseTimeout = 30 * time.Second

// Browse is the simulated world's browser: it GETs u and follows its
// redirects to the end, as a browser does with an authorize URL: through the
// exchange's consent (at once with AutoApprove; with Manual it stops at the
// consent page), the relay's callback and the agent's loopback listener. It
// reads the last answer to its end and reports a failed walk or a status
// other than 2xx.
func Browse(ctx context.Context, u string) error {
	ctx, cancel := context.WithTimeout(ctx, browseTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("browse: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("browse: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("browse: the last page answered %s", resp.Status)
	}
	return nil
}

// Browser is an oauthflow.Opener for the simulated world: it Browses u in
// the background and returns at once, as a user's browser opens while the
// flow waits for its callback. The walk outlives ctx, as a browser outlives
// the flow that opened it, and ends within browseTimeout.
func Browser(ctx context.Context, u string) error {
	go Browse(context.WithoutCancel(ctx), u)
	return nil
}
