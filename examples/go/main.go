// Command go-example calls a signed EXchange endpoint with the key the
// tokentray agent keeps, through the localclient Go client:
//
//	go run ./examples/go [-conn exchange] [-exchange URL]
//
// TOKENTRAY_SOCK and TOKENTRAY_EXCHANGE give the defaults (`tokentray demo`
// prints both). Like curl.sh and trader.py it follows the agent's events,
// signs GET /api/v2/members/me through the agent (the secret key never
// leaves it) and calls the exchange, and when the exchange says the key is
// dead (2008, 2010) refreshes the generation it used and tries once more.
// The exchange's answer goes to stdout; everything else to stderr.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/tokentray/tokentray/localclient"
)

func main() {
	conn := flag.String("conn", "exchange", "connection id, or the provider id")
	exchange := flag.String("exchange", envOr("TOKENTRAY_EXCHANGE", "https://f1cx.com"), "the exchange's base URL")
	path := flag.String("path", "/api/v2/members/me", "the API path to call")
	flag.Parse()
	if err := run(context.Background(), localclient.NewClient(""), *exchange, *conn, *path); err != nil {
		fmt.Fprintln(os.Stderr, "go-example:", err)
		os.Exit(1)
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, agent *localclient.Client, exchange, conn, path string) error {
	// 1. Events, in the background; refreshed is told of a "refreshed" one.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	refreshed := make(chan struct{}, 1)
	go agent.Events(ctx, func(ev localclient.Event) {
		if ev.Type == "activity" {
			return // an access record (ev.Activity), not a change of a connection
		}
		fmt.Fprintf(os.Stderr, "go-example: agent event: %s (%s, generation %d)\n", ev.Type, ev.Connection.ID, ev.Connection.Generation)
		if ev.Type == "refreshed" {
			select {
			case refreshed <- struct{}{}:
			default:
			}
		}
	})

	// 2. The generation of the key we are about to use, then the call.
	c, err := agent.Connection(ctx, conn)
	if err != nil {
		return err
	}
	status, body, code, err := call(ctx, agent, exchange, conn, path)
	if err != nil {
		return err
	}

	// 3. A dead key: refresh that generation (only), then once more.
	if code == 2008 || code == 2010 {
		fmt.Fprintf(os.Stderr, "go-example: the exchange says the key is dead (%d); refreshing generation %d\n", code, c.Generation)
		gen := c.Generation
		now, err := agent.Refresh(ctx, conn, &gen)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "go-example: the key is now generation %d\n", now.Generation)
		select {
		case <-refreshed:
		case <-time.After(2 * time.Second):
		}
		if status, body, code, err = call(ctx, agent, exchange, conn, path); err != nil {
			return err
		}
	}
	fmt.Printf("%s\n", body)
	if status/100 != 2 {
		return fmt.Errorf("the exchange answered %d, error %d", status, code)
	}
	return nil
}

// call signs GET path through the agent and sends it to the exchange. It
// returns the status, the body and the Peatio error code (0 if none).
func call(ctx context.Context, agent *localclient.Client, exchange, conn, path string) (int, []byte, int, error) {
	signed, err := agent.Sign(ctx, conn, localclient.SignRequest{Method: http.MethodGet, Path: path, Params: map[string]string{}})
	if err != nil {
		return 0, nil, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, exchange+path+"?"+signed.Query, nil)
	if err != nil {
		return 0, nil, 0, fmt.Errorf("build the request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if uerr, ok := err.(*url.Error); ok {
		err = uerr.Err // its URL carries the access key and signature
	}
	if err != nil {
		return 0, nil, 0, fmt.Errorf("call the exchange: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, 0, fmt.Errorf("read the exchange's answer: %w", err)
	}
	var e struct {
		Error struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	json.Unmarshal(body, &e)
	return resp.StatusCode, body, e.Error.Code, nil
}
