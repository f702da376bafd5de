package localapi_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"

	"github.com/tokentray/tokentray/internal/agentd"
	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/localclient"
	"github.com/tokentray/tokentray/vault"
)

// A script reads the key of its exchange connection, or asks the agent to
// sign a request so that it never holds the secret key at all.
func Example() {
	socket, stop := startDemoAgent() // a real script skips this: the agent runs already
	defer stop()

	c := localclient.NewClient(socket) // a real script passes "": $TOKENTRAY_SOCK or the default path
	ctx := context.Background()

	// "exchange" is the provider id; it names the connection while there is
	// only one connection of that provider.
	tok, err := c.Token(ctx, "exchange", 0)
	switch {
	case errors.Is(err, localclient.ErrAgentNotRunning):
		log.Fatal("start the agent: tokentray agent")
	case errors.Is(err, localclient.ErrNotFound), errors.Is(err, localclient.ErrNeedsReconnect):
		log.Fatal("connect first: tokentray connect exchange")
	case errors.Is(err, localclient.ErrForbidden):
		log.Fatal("raw keys are off for this connection: use Sign")
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println("token type:", tok.TokenType)

	signed, err := c.Sign(ctx, "exchange", localclient.SignRequest{
		Method: "GET",
		Path:   "/api/v2/orders",
		Params: map[string]string{"market": "btcusd"},
	})
	if err != nil {
		log.Fatal(err)
	}
	q, _ := url.ParseQuery(signed.Query)
	fmt.Println("signed with the same key:", q.Get("access_key") == tok.AccessKey)
	fmt.Println("market:", q.Get("market"))
	// Output:
	// token type: peatio
	// signed with the same key: true
	// market: btcusd
}

// A script whose key was refused (Peatio 2008 or 2010) reports the generation
// it used: however many scripts report the same dead key, the agent makes
// one refresh.
func ExampleClient_Refresh() {
	socket, stop := startDemoAgent()
	defer stop()
	c := localclient.NewClient(socket)
	ctx := context.Background()

	tok, err := c.Token(ctx, "exchange", 0)
	if err != nil {
		log.Fatal(err)
	}
	// … the exchange answered {"error":{"code":2010}} to tok's key …
	conn, err := c.Refresh(ctx, "exchange", &tok.Generation)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("new generation:", conn.Generation == tok.Generation+1)
	// Output:
	// new generation: true
}

// startDemoAgent starts the simulated exchange, a relay and an agent with a
// memory vault on a socket in a temporary folder, and connects the exchange
// once. stop shuts everything down and removes the folder.
func startDemoAgent() (socket string, stop func()) {
	dir, err := os.MkdirTemp("", "lapi-example")
	if err != nil {
		log.Fatal(err)
	}
	stack, err := devstack.Start(devstack.Options{Dir: dir, Approval: fakeexchange.AutoApprove})
	if err != nil {
		log.Fatal(err)
	}
	memory := vault.ModeMemory
	d, err := agentd.Start(context.Background(), agentd.Options{
		Getenv: func(k string) string {
			if k == "TOKENTRAY_HOME" {
				return dir
			}
			return ""
		},
		Socket: filepath.Join(dir, "run", "agent.sock"), VaultDir: dir, VaultMode: &memory,
		RelayURL: stack.RelayURL, Logger: slog.New(slog.DiscardHandler),
		Open: func(_ context.Context, u string) error {
			go func() { // the user approves in the browser
				if resp, err := http.Get(u); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}()
			return nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	c := localclient.NewClient(d.Socket)
	if _, err := c.Connect(context.Background(), localclient.ConnectRequest{Provider: "exchange"}, nil); err != nil {
		log.Fatal(err)
	}
	return d.Socket, func() {
		d.Stop()
		stack.Close()
		os.RemoveAll(dir)
	}
}
