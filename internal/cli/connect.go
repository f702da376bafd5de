package cli

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tokentray/tokentray/localclient"
)

const connectUsage = `Usage: tokentray connect PROVIDER [--scope a,b] [--field k=v]...

Connects an account at PROVIDER (e.g. exchange). The agent opens the
provider's consent page in the browser ($BROWSER, else the desktop's
opener); the page's address is also printed on stderr at once, to open by
hand. When the account is connected, its connection id is printed on stdout.

  --scope a,b   the scopes to ask for (repeatable; default: the provider's
                defaults, plus every scope its existing connections have)
  --field k=v   an extra value the provider asks for (repeatable)

Signing in again to an account that is already connected renews that
connection (same id); another account becomes a new connection. Before the
browser opens, the existing connections are named on stderr, so nothing is
replaced unannounced.
`

func runConnect(env Env, args []string) int {
	fs := newFlags("connect")
	var scopes, fields listFlag
	fs.Var(&scopes, "scope", "")
	fs.Var(&fields, "field", "")
	pos, code, ok := parseArgs(env, "connect", connectUsage, fs, args, 1, 1)
	if !ok {
		return code
	}
	req := localclient.ConnectRequest{Provider: pos[0], Scopes: []string{}}
	for _, s := range scopes {
		for _, one := range strings.Split(s, ",") {
			if one = strings.TrimSpace(one); one != "" {
				req.Scopes = append(req.Scopes, one)
			}
		}
	}
	var err error
	if req.Fields, err = keyValues("--field", fields); err != nil {
		return usageFail(env, "connect", connectUsage, err)
	}
	c := client(env)
	existing, err := announceExisting(env, c, &req, len(scopes) > 0)
	if err != nil {
		return fail(env, "connect", err)
	}
	onURL := func(u string) {
		fmt.Fprintf(env.Stderr, "tokentray connect: approve the connection in your browser; if no browser opened, open:\n  %s\n", u)
	}
	conn, err := c.Connect(env.Context, req, onURL)
	if err != nil {
		return fail(env, "connect", err)
	}
	verb := "connected"
	if slices.ContainsFunc(existing, func(x localclient.Connection) bool { return x.ID == conn.ID }) {
		verb = "renewed the existing connection"
	}
	fmt.Fprintf(env.Stderr, "tokentray connect: %s %q (%s), scopes %s, key valid until %s\n",
		verb, conn.Label, conn.ID, strings.Join(conn.ScopesGranted, ","), conn.ExpiresAt.UTC().Format(time.RFC3339))
	fmt.Fprintln(env.Stdout, conn.ID)
	return exitOK
}

// announceExisting names the provider's existing connections on stderr
// before the browser opens: signing in to one of their accounts renews it.
// Without --scope (explicit false) the request asks for the provider's
// defaults plus every scope those connections have, so that a renewal never
// drops a scope a trading script relies on; with --scope, the scopes a
// renewal would drop are named.
func announceExisting(env Env, c *localclient.Client, req *localclient.ConnectRequest, explicit bool) ([]localclient.Connection, error) {
	all, err := c.Connections(env.Context)
	if err != nil {
		return nil, err
	}
	var existing []localclient.Connection
	var had []string
	for _, x := range all {
		if x.Provider == req.Provider {
			existing = append(existing, x)
			had = union(had, x.ScopesGranted)
		}
	}
	if len(existing) == 0 {
		return nil, nil
	}
	for _, x := range existing {
		fmt.Fprintf(env.Stderr, "tokentray connect: %s is already connected: %s (%s), scopes %s\n",
			req.Provider, x.ID, x.Label, strings.Join(x.ScopesGranted, ","))
	}
	if !explicit {
		providers, err := c.Providers(env.Context)
		if err != nil {
			return nil, err
		}
		for _, p := range providers {
			if p.ID != req.Provider {
				continue
			}
			for _, s := range p.Scopes {
				if s.Default || s.Required {
					req.Scopes = union(req.Scopes, []string{s.Name})
				}
			}
		}
		req.Scopes = union(req.Scopes, had)
	}
	if dropped := minus(had, req.Scopes); len(dropped) > 0 {
		fmt.Fprintf(env.Stderr, "tokentray connect: signing in to that account again renews it with only %s: it would lose %s\n",
			strings.Join(req.Scopes, ","), strings.Join(dropped, ","))
	} else {
		fmt.Fprintf(env.Stderr, "tokentray connect: signing in to that account again renews it, asking for %s; another account becomes a new connection\n",
			strings.Join(req.Scopes, ","))
	}
	return existing, nil
}

// union returns a with the items of b it lacks appended, in order.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// minus returns the items of a that b lacks.
func minus(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}
