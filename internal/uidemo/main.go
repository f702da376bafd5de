// Command uidemo serves an agent socket for looking at and measuring the
// tray app: by default a real agent (simulated exchange, relay, memory
// vault) with one auto-approved connection; with -fake N a static stand-in
// that answers N connections, for the idle measurement (the simulated
// exchange has one account, so a real agent holds one connection). A tray
// host for the "tray only" case of scripts/idle-cost is app/internal/sniwatch.
//
//	go run ./internal/uidemo -socket /tmp/ui/agent.sock [-fake 10]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tokentray/tokentray/internal/agentd"
	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/internal/devworld"
	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/localclient"
	"github.com/tokentray/tokentray/safesocket"
)

func main() {
	socket := flag.String("socket", "", "the socket to serve (required)")
	fake := flag.Int("fake", 0, "serve N static connections instead of a real agent")
	flag.Parse()
	if *socket == "" {
		fmt.Fprintln(os.Stderr, "uidemo: -socket is required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if *fake > 0 {
		err = serveFake(ctx, *socket, *fake)
	} else {
		err = serveReal(ctx, *socket)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "uidemo:", err)
		os.Exit(1)
	}
}

func serveReal(ctx context.Context, socket string) error {
	w, err := devworld.Start(ctx, devworld.Options{
		Stack: devstack.Options{Approval: fakeexchange.AutoApprove},
		Agent: agentd.Options{Socket: socket, Open: devstack.Browser, Version: "uidemo"},
	})
	if err != nil {
		return err
	}
	defer w.Close()
	if _, err := w.Connect(ctx, "profile", "trade"); err != nil {
		return err
	}
	fmt.Println("ready", socket)
	<-ctx.Done()
	return nil
}

// serveFake answers the GUI's calls with n fixed connections; the event
// stream stays open and silent.
func serveFake(ctx context.Context, socket string, n int) error {
	ln, err := safesocket.Listen(socket)
	if err != nil {
		return err
	}
	now := time.Now()
	var conns []localclient.Connection
	for i := range n {
		conns = append(conns, localclient.Connection{
			ID: fmt.Sprintf("c%d", i+1), Provider: "exchange", Label: fmt.Sprintf("Desk %d", i+1),
			Account: fmt.Sprintf("ID%06d", i+1), Fields: map[string]string{},
			ScopesGranted: []string{"profile", "history"}, ScopesRequested: []string{"profile", "history"},
			ExpiresAt: now.Add(time.Duration(i+1) * 20 * time.Minute).UTC(), State: localclient.StateConnected,
			Generation: 1, RawKeys: true,
		})
	}
	provider := localclient.Provider{ID: "exchange", Name: "EXchange", TokenFormat: "peatio", DefaultLifetime: "4h0m0s",
		Scopes: []localclient.Scope{{Name: "profile", Default: true, Required: true}, {Name: "history", Default: true}, {Name: "trade"}},
		Fields: []localclient.Field{}}
	answer := func(v any) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { json.NewEncoder(w).Encode(v) }
	}
	mux := http.NewServeMux()
	mux.Handle("GET /v1/status", answer(localclient.Status{Version: "uidemo", PID: os.Getpid(), Connections: n}))
	mux.Handle("GET /v1/connections", answer(map[string]any{"connections": conns}))
	mux.Handle("GET /v1/providers", answer(map[string]any{"providers": []localclient.Provider{provider}}))
	mux.Handle("GET /v1/settings", answer(localclient.Settings{RefreshMargin: "10m0s"}))
	mux.Handle("GET /v1/activity", answer(map[string]any{"activity": []localclient.Activity{}}))
	mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	srv := &http.Server{Handler: mux}
	go func() { <-ctx.Done(); srv.Close() }()
	fmt.Println("ready", socket)
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}
