package localapi_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/url"

	"github.com/tokentray/tokentray/internal/agentd"
	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/internal/devworld"
	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/localclient"
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

// startDemoAgent starts the simulated world (exchange, relay and an agent
// with a memory vault on a socket in a temporary folder), and connects the
// exchange once, approved in the world's browser. stop shuts everything
// down and removes the folder.
func startDemoAgent() (socket string, stop func()) {
	w, err := devworld.Start(context.Background(), devworld.Options{
		Stack: devstack.Options{Approval: fakeexchange.AutoApprove},
		Agent: agentd.Options{Open: devstack.Browser},
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := w.Connect(context.Background()); err != nil {
		log.Fatal(err)
	}
	return w.Socket, func() { w.Close() }
}
