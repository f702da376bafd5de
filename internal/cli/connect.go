package cli

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tokentray/tokentray/internal/humantime"
	"github.com/tokentray/tokentray/localclient"
)

const connectUsage = `Usage: tokentray connect PROVIDER [--scope a,b] [--field k=v]...

Connects an account at PROVIDER (e.g. exchange). The agent opens the
provider's consent page in the browser ($BROWSER, else the desktop's
opener); the page's address is also printed on stderr at once, to open by
hand. When the account is connected, its connection id is printed on stdout.

  --scope a,b     the scopes to ask for (repeatable; default: the provider's
                  defaults)
  --field k=v     an extra value the provider asks for (repeatable)
  --drop-scopes   ask for only the scopes above, even if that drops scopes
                  an existing connection of PROVIDER has

Signing in again to an account that is already connected renews that
connection (same id); another account becomes a new connection. Before the
browser opens, the existing connections are named on stderr with the scopes
that will be asked for: every scope they have is asked for again, so a
renewal never drops one unless --drop-scopes says so.
`

func runConnect(env Env, args []string) int {
	fs := newFlags("connect")
	var scopes, fields listFlag
	fs.Var(&scopes, "scope", "")
	fs.Var(&fields, "field", "")
	drop := fs.Bool("drop-scopes", false, "")
	pos, code, ok := parseArgs(env, "connect", connectUsage, fs, args, 1, 1)
	if !ok {
		return code
	}
	req := localclient.ConnectRequest{Provider: pos[0], Scopes: []string{}}
	for _, s := range scopes {
		for _, one := range strings.Split(s, ",") {
			if one = strings.TrimSpace(one); one != "" {
				req.Scopes = union(req.Scopes, []string{one})
			}
		}
	}
	var err error
	if req.Fields, err = keyValues("--field", fields); err != nil {
		return usageFail(env, "connect", connectUsage, err)
	}
	c := client(env)
	// The provider's scopes, to check the ones asked for and to name the
	// provider as people know it. A provider missing from the list is the
	// agent's to judge (it fetches the relay's list again first).
	providers, perr := c.Providers(env.Context)
	var prov *localclient.Provider
	if i := slices.IndexFunc(providers, func(p localclient.Provider) bool { return p.ID == req.Provider }); i >= 0 {
		prov = &providers[i]
	}
	name := req.Provider
	if prov != nil && prov.Name != "" {
		name = prov.Name
	}
	if prov != nil {
		offered := make([]string, len(prov.Scopes))
		for i, s := range prov.Scopes {
			offered[i] = s.Name
		}
		for _, s := range req.Scopes {
			if !slices.Contains(offered, s) {
				fmt.Fprintf(env.Stderr, "tokentray connect: %s offers no scope %q; it offers %s.\n", name, s, scopesText(offered))
				return exitUsage
			}
		}
	}
	existing, err := announceExisting(env, c, &req, name, prov, perr, len(req.Scopes) > 0, *drop)
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
	fmt.Fprintf(env.Stderr, "tokentray connect: %s %q (%s) with %s; its key is valid %s.\n",
		verb, conn.Label, conn.ID, scopesText(conn.ScopesGranted), humantime.Until(time.Now(), conn.ExpiresAt))
	if missing := minus(req.Scopes, conn.ScopesGranted); len(missing) > 0 {
		fmt.Fprintf(env.Stderr, "tokentray connect: %s did not grant %s.\n", name, scopesText(missing))
	}
	if verb == "connected" && len(existing) > 0 && !slices.ContainsFunc(existing, func(x localclient.Connection) bool { return x.Default }) {
		fmt.Fprintf(env.Stderr, "tokentray connect: %s now has %d connections, none of them the default: a script that names %q gets an error until you pick one: tokentray default %s (or %s).\n",
			name, len(existing)+1, req.Provider, existing[0].ID, conn.ID)
	}
	fmt.Fprintln(env.Stdout, conn.ID)
	return exitOK
}

// announceExisting names the provider's existing connections on stderr
// before the browser opens: signing in to one of their accounts renews it.
// Unless drop, the request asks for every scope those connections have as
// well (without explicit scopes, on top of the provider's defaults), so a
// renewal never drops a scope a trading script relies on; the scopes asked
// for are named, and with drop, the ones a renewal loses.
func announceExisting(env Env, c *localclient.Client, req *localclient.ConnectRequest, name string,
	prov *localclient.Provider, perr error, explicit, drop bool) ([]localclient.Connection, error) {
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
		fmt.Fprintf(env.Stderr, "tokentray connect: %s is already connected as %q (%s) with %s.\n",
			name, x.Label, x.ID, scopesText(x.ScopesGranted))
	}
	if !explicit {
		// The provider's defaults, so that they are named and kept too.
		if perr != nil {
			return nil, perr
		}
		if prov != nil {
			for _, s := range prov.Scopes {
				if s.Default || s.Required {
					req.Scopes = union(req.Scopes, []string{s.Name})
				}
			}
		}
	}
	asked := slices.Clone(req.Scopes)
	if !drop {
		req.Scopes = union(req.Scopes, had)
	}
	if prov != nil {
		// In the provider's order, as the consent page lists them.
		slices.SortStableFunc(req.Scopes, func(a, b string) int {
			return scopeIndex(prov, a) - scopeIndex(prov, b)
		})
	}
	kept, dropped := minus(had, asked), minus(had, req.Scopes)
	switch {
	case len(dropped) > 0:
		fmt.Fprintf(env.Stderr, "tokentray connect: asking for %s only, as --drop-scopes says: signing in to a connected account again renews its connection without %s.\n",
			scopesText(req.Scopes), andList(dropped))
	case explicit && len(kept) > 0:
		fmt.Fprintf(env.Stderr, "tokentray connect: asking for %s, so that a connection renewed keeps %s (add --drop-scopes to drop them); another account becomes a new connection.\n",
			scopesText(req.Scopes), andList(kept))
	default:
		fmt.Fprintf(env.Stderr, "tokentray connect: asking for %s: signing in to a connected account again renews its connection with them; another account becomes a new connection.\n",
			scopesText(req.Scopes))
	}
	return existing, nil
}

// scopeIndex is where the provider lists scope; after all of them if not.
func scopeIndex(p *localclient.Provider, scope string) int {
	if i := slices.IndexFunc(p.Scopes, func(s localclient.Scope) bool { return s.Name == scope }); i >= 0 {
		return i
	}
	return len(p.Scopes)
}

// scopesText names scopes in a sentence: "the scope trade", "the scopes
// profile, history and trade", "no scope".
func scopesText(scopes []string) string {
	switch len(scopes) {
	case 0:
		return "no scope"
	case 1:
		return "the scope " + scopes[0]
	}
	return "the scopes " + andList(scopes)
}

// andList joins words as a sentence does: "a", "a and b", "a, b and c".
func andList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
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
