// Command localapi measures the agent's socket API: token reads and
// signatures, with 1 and 8 clients over kept-alive connections, beside a
// trivial net/http handler on a Unix socket and a raw Unix-socket echo
// measured in the same run. It prints a Markdown table.
//
//	go run ./internal/bench/localapi [-d 2s] [-clients 1,8]
//
// Everything runs in-process on loopback: the simulated exchange, a relay and
// an agent with a memory vault. Nothing of the user's is touched.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tokentray/tokentray/internal/agentd"
	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/internal/devworld"
	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/localclient"
	"github.com/tokentray/tokentray/peatio"
)

func main() {
	dur := flag.Duration("d", 2*time.Second, "how long each measurement runs")
	clientList := flag.String("clients", "1,8", "comma-separated numbers of concurrent clients")
	flag.Parse()
	var clients []int
	for _, s := range strings.Split(*clientList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			log.Fatalf("-clients: %q is not a positive number", s)
		}
		clients = append(clients, n)
	}
	if err := run(*dur, clients); err != nil {
		log.Fatal(err)
	}
}

// op is one request of a benchmark, made by one client; newClient returns
// the op of a fresh client with its own kept-alive connection.
type op func() error

type bench struct {
	name      string
	newClient func() (op, func(), error)
}

func run(dur time.Duration, clients []int) error {
	dir, err := os.MkdirTemp("", "bench-localapi")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	w, err := startAgent()
	if err != nil {
		return err
	}
	defer w.Close()
	sock, stack := w.Socket, w.Stack
	plain, stopPlain, err := serveTrivial(filepath.Join(dir, "plain.sock"))
	if err != nil {
		return err
	}
	defer stopPlain()
	echo, stopEcho, err := serveEcho(filepath.Join(dir, "echo.sock"))
	if err != nil {
		return err
	}
	defer stopEcho()

	ctx := context.Background()
	signReq := localclient.SignRequest{Method: "GET", Path: "/api/v2/orders", Params: map[string]string{"market": "btcusd"}}
	benches := []bench{
		{"agent: GET /v1/connections/{id}/token", func() (op, func(), error) {
			c := localclient.NewClient(sock)
			return func() error { _, err := c.Token(ctx, "exchange", 0); return err }, func() {}, nil
		}},
		{"agent: POST /v1/connections/{id}/sign", func() (op, func(), error) {
			c := localclient.NewClient(sock)
			return func() error { _, err := c.Sign(ctx, "exchange", signReq); return err }, func() {}, nil
		}},
		{"agent proxy: GET members/me at the exchange", func() (op, func(), error) {
			c := localclient.NewClient(sock)
			return func() error {
				resp, err := c.Proxy(ctx, "exchange", "GET", "members/me", nil)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				io.Copy(io.Discard, resp.Body)
				if resp.StatusCode != 200 {
					return fmt.Errorf("proxy answered %s", resp.Status)
				}
				return nil
			}, func() {}, nil
		}},
		{"direct: signed GET members/me at the exchange", func() (op, func(), error) {
			return directMe(stack)
		}},
		{"net/http trivial JSON handler, Unix socket", func() (op, func(), error) {
			hc := unixHTTPClient(plain)
			return func() error { return getJSON(hc) }, hc.CloseIdleConnections, nil
		}},
		{"raw Unix-socket echo, 64 bytes", func() (op, func(), error) {
			c, err := net.Dial("unix", echo)
			if err != nil {
				return nil, nil, err
			}
			buf := make([]byte, 64)
			return func() error {
				if _, err := c.Write(buf); err != nil {
					return err
				}
				_, err := io.ReadFull(c, buf)
				return err
			}, func() { c.Close() }, nil
		}},
	}

	fmt.Printf("Go %s, %s/%s, GOMAXPROCS %d, %d CPUs, %s per row\n\n", runtime.Version(), runtime.GOOS, runtime.GOARCH,
		runtime.GOMAXPROCS(0), runtime.NumCPU(), dur)
	fmt.Println("| what | clients | requests | req/s | p50 | p99 |")
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	for _, b := range benches {
		for _, n := range clients {
			r, err := measure(b, n, dur)
			if err != nil {
				return fmt.Errorf("%s with %d clients: %w", b.name, n, err)
			}
			fmt.Printf("| %s | %d | %d | %.0f | %s | %s |\n", b.name, n, r.count, float64(r.count)/r.elapsed.Seconds(),
				fmtDur(r.p50), fmtDur(r.p99))
		}
	}
	return nil
}

type result struct {
	count    int
	elapsed  time.Duration
	p50, p99 time.Duration
}

// measure runs n clients, each with its own connection, for dur after a
// short warm-up, and returns the latency percentiles and the count.
func measure(b bench, n int, dur time.Duration) (result, error) {
	ops := make([]op, n)
	for i := range ops {
		o, closeFn, err := b.newClient()
		if err != nil {
			return result{}, err
		}
		defer closeFn()
		for range 50 { // warm-up: the connection is open and kept alive
			if err := o(); err != nil {
				return result{}, err
			}
		}
		ops[i] = o
	}
	var wg sync.WaitGroup
	lat := make([][]time.Duration, n)
	errs := make([]error, n)
	start := time.Now()
	deadline := start.Add(dur)
	for i, o := range ops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := make([]time.Duration, 0, 1<<16)
			for {
				t0 := time.Now()
				if t0.After(deadline) {
					break
				}
				if err := o(); err != nil {
					errs[i] = err
					break
				}
				l = append(l, time.Since(t0))
			}
			lat[i] = l
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for i := range lat {
		if errs[i] != nil {
			return result{}, errs[i]
		}
		all = append(all, lat[i]...)
	}
	if len(all) == 0 {
		return result{}, fmt.Errorf("no request finished in %s", dur)
	}
	slices.Sort(all)
	return result{count: len(all), elapsed: elapsed, p50: all[len(all)/2], p99: all[len(all)*99/100]}, nil
}

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
}

// startAgent starts the simulated world (exchange, relay and an agent with a
// memory vault) and connects the exchange once.
func startAgent() (*devworld.World, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w, err := devworld.Start(ctx, devworld.Options{
		Stack: devstack.Options{Approval: fakeexchange.AutoApprove},
		Agent: agentd.Options{Open: devstack.Browser, Version: "bench"},
	})
	if err != nil {
		return nil, err
	}
	if _, err := w.Connect(ctx); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// serveTrivial serves a handler that answers a small JSON object, the floor
// for any net/http API on a Unix socket.
func serveTrivial(path string) (string, func(), error) {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`+"\n")
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return path, func() { srv.Close() }, nil
}

func unixHTTPClient(path string) *http.Client {
	var d net.Dialer
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", path)
		},
		MaxIdleConnsPerHost: 8,
	}}
}

// getJSON does what the typed client does for a token: GET, then decode.
func getJSON(hc *http.Client) error {
	resp, err := hc.Get("http://plain/")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var v map[string]any
	return json.NewDecoder(resp.Body).Decode(&v)
}

// serveEcho echoes everything back on each connection.
func serveEcho(path string) (string, func(), error) {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return "", nil, err
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return path, func() { ln.Close() }, nil
}

// directMe is the baseline for the proxy: a script that holds a key of its
// own (a grant the exchange issues directly, so that its tonces never meet
// the agent's), signs itself and calls the exchange with a kept-alive client.
func directMe(stack *devstack.Stack) (op, func(), error) {
	ak, sk, _ := strings.Cut(stack.Exchange.Issue("profile").AccessToken, ":")
	signer := &peatio.Signer{}
	hc := &http.Client{}
	return func() error {
		q, err := signer.Sign("GET", "/api/v2/members/me", url.Values{}, ak, sk, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Get(stack.ExchangeURL + "/api/v2/members/me?" + q.Query)
		if err != nil {
			return errors.New("the exchange did not answer")
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != 200 {
			return fmt.Errorf("the exchange answered %s", resp.Status)
		}
		return nil
	}, hc.CloseIdleConnections, nil
}
