package localapi_test

import (
	"context"
	"testing"

	"github.com/tokentray/tokentray/localclient"
)

// BenchmarkToken measures one token read over the socket with a kept-alive
// connection: the hot path, which opens no enclave.
func BenchmarkToken(b *testing.B) {
	e := newEnv(b, envOptions{})
	conn := e.connect()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.client.Token(ctx, conn.ID, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSign measures one signature over the socket.
func BenchmarkSign(b *testing.B) {
	e := newEnv(b, envOptions{})
	conn := e.connect()
	ctx := context.Background()
	req := localclient.SignRequest{Method: "GET", Path: "/api/v2/orders", Params: map[string]string{"market": "btcusd"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.client.Sign(ctx, conn.ID, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTokenParallel reads tokens from GOMAXPROCS goroutines sharing
// one client (up to 8 kept-alive connections).
func BenchmarkTokenParallel(b *testing.B) {
	e := newEnv(b, envOptions{})
	conn := e.connect()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.client.Token(context.Background(), conn.ID, 0); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
