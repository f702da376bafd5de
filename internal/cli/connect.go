package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/tokentray/tokentray/localclient"
)

const connectUsage = `Usage: tokentray connect PROVIDER [--scope a,b] [--field k=v]...

Connects an account at PROVIDER (e.g. exchange). The agent opens the
provider's consent page in the browser ($BROWSER, else the desktop's
opener); the page's address is also printed on stderr at once, to open by
hand. When the account is connected, its connection id is printed on stdout.

  --scope a,b   the scopes to ask for (repeatable; default: the provider's defaults)
  --field k=v   an extra value the provider asks for (repeatable)
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
	onURL := func(u string) {
		fmt.Fprintf(env.Stderr, "tokentray connect: approve the connection in your browser; if no browser opened, open:\n  %s\n", u)
	}
	conn, err := client(env).Connect(env.Context, req, onURL)
	if err != nil {
		return fail(env, "connect", err)
	}
	fmt.Fprintf(env.Stderr, "tokentray connect: connected %q (%s), scopes %s, key valid until %s\n",
		conn.Label, conn.ID, strings.Join(conn.ScopesGranted, ","), conn.ExpiresAt.UTC().Format(time.RFC3339))
	fmt.Fprintln(env.Stdout, conn.ID)
	return exitOK
}
