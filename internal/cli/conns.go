package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tokentray/tokentray/internal/humantime"
	"github.com/tokentray/tokentray/localclient"
)

const lsUsage = `Usage: tokentray ls [--json]

Lists the connections on stdout, one a line, in columns: ID, PROVIDER,
STATE, DEFAULT ("default" for the connection scripts get when they name
the provider, else "-"), EXPIRES (the local clock time and the time left,
e.g. "until 14:32, 3 h 12 min left") and LABEL. --json prints the agent's
/v1/connections body instead (expires_at in RFC 3339): use it in scripts.
`

func runLs(env Env, args []string) int {
	fs := newFlags("ls")
	asJSON := fs.Bool("json", false, "")
	if _, code, ok := parseArgs(env, "ls", lsUsage, fs, args, 0, 0); !ok {
		return code
	}
	conns, err := client(env).Connections(env.Context)
	if err != nil {
		return fail(env, "ls", err)
	}
	if *asJSON {
		if conns == nil {
			conns = []localclient.Connection{}
		}
		return printJSON(env, "ls", map[string]any{"connections": conns})
	}
	if len(conns) == 0 {
		fmt.Fprintln(env.Stderr, "tokentray ls: no connections yet (run: tokentray connect exchange)")
		return exitOK
	}
	// One write, so that a reader of a pipe never sees half a list.
	var out bytes.Buffer
	tw := tabwriter.NewWriter(&out, 0, 4, 2, ' ', 0)
	now := time.Now()
	for _, c := range conns {
		def := "-"
		if c.Default {
			def = "default"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Provider, c.State, def, humantime.Until(now, c.ExpiresAt), c.Label)
	}
	tw.Flush()
	env.Stdout.Write(out.Bytes())
	return exitOK
}

// printJSON writes v as one line of JSON on stdout.
func printJSON(env Env, name string, v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return fail(env, name, fmt.Errorf("encode the answer: %w", err))
	}
	fmt.Fprintf(env.Stdout, "%s\n", b)
	return exitOK
}

const tokenUsage = `Usage: tokentray token [CONN] [--json] [--min-valid DUR]

Prints the connection's current key on stdout: ACCESS_KEY:SECRET_KEY for an
exchange (peatio) connection, the access token for a bearer one. CONN may be
left out when exactly one connection exists.

  --json           print the agent's /token body (token_type, expires_at,
                   scopes, generation and the key fields)
  --min-valid DUR  refresh first if the key expires within DUR (e.g. 10m,
                   "10 minutes", "1 h 30 min"); the agent caps it at half
                   the key's lifetime
`

func runToken(env Env, args []string) int {
	fs := newFlags("token")
	asJSON := fs.Bool("json", false, "")
	minValidText := fs.String("min-valid", "", "")
	pos, code, ok := parseArgs(env, "token", tokenUsage, fs, args, 0, 1)
	if !ok {
		return code
	}
	var minValid time.Duration
	if *minValidText != "" {
		d, err := humantime.Parse(*minValidText)
		if err != nil {
			// One sentence: the usage would bury what is wrong.
			fmt.Fprintf(env.Stderr, "tokentray token: --min-valid %q is not a time; %s.\n", *minValidText, err)
			return exitUsage
		}
		minValid = d
	}
	tok, code, ok := readToken(env, pos, minValid)
	if !ok {
		return code
	}
	if *asJSON {
		return printJSON(env, "token", tok)
	}
	switch {
	case tok.AccessKey != "" && tok.SecretKey != "":
		fmt.Fprintf(env.Stdout, "%s:%s\n", tok.AccessKey, tok.SecretKey)
	case tok.AccessToken != "":
		fmt.Fprintln(env.Stdout, tok.AccessToken)
	default:
		return fail(env, "token", fmt.Errorf("the agent answered a %q token without a key", tok.TokenType))
	}
	return exitOK
}

// readToken asks the agent for the key of the connection named in pos, or of
// the only one: one request either way (the hot path of every script).
func readToken(env Env, pos []string, minValid time.Duration) (*localclient.Token, int, bool) {
	c := client(env)
	if len(pos) > 0 {
		tok, err := c.Token(env.Context, pos[0], minValid)
		if err != nil {
			return nil, failConn(env, "token", pos[0], err), false
		}
		return tok, exitOK, true
	}
	tok, err := c.OnlyToken(env.Context, minValid)
	switch {
	case err == nil:
		return tok, exitOK, true
	case errors.Is(err, localclient.ErrNotFound):
		// No connection, or an agent older than /v1/token: listing tells.
		id, lerr := resolveConn(env.Context, c, nil)
		if lerr != nil {
			return nil, fail(env, "token", lerr), false
		}
		return readToken(env, []string{id}, minValid)
	case errors.Is(err, localclient.ErrNeedsReconnect):
		// Name the connection in the hint, as when CONN is given.
		if id, lerr := resolveConn(env.Context, c, nil); lerr == nil {
			return nil, failConn(env, "token", id, err), false
		}
	}
	return nil, fail(env, "token", err), false
}

// resolveConn returns the connection named in pos, or the only one.
func resolveConn(ctx context.Context, c *localclient.Client, pos []string) (string, error) {
	if len(pos) > 0 {
		return pos[0], nil
	}
	conns, err := c.Connections(ctx)
	if err != nil {
		return "", err
	}
	switch len(conns) {
	case 0:
		return "", errNotConnected
	case 1:
		return conns[0].ID, nil
	}
	ids := make([]string, len(conns))
	for i, conn := range conns {
		ids[i] = conn.ID
	}
	return "", usagef("there are %d connections (%s): name one", len(conns), strings.Join(ids, ", "))
}

const refreshUsage = `Usage: tokentray refresh CONN

Makes the agent fetch a new key for the connection now (the old key stops
working at the exchange). Prints the new generation on stderr.
`

func runRefresh(env Env, args []string) int {
	pos, code, ok := parseArgs(env, "refresh", refreshUsage, newFlags("refresh"), args, 1, 1)
	if !ok {
		return code
	}
	conn, err := client(env).Refresh(env.Context, pos[0], nil)
	if err != nil {
		return failConn(env, "refresh", pos[0], err)
	}
	fmt.Fprintf(env.Stderr, "tokentray refresh: %s has a new key (generation %d), valid %s.\n",
		conn.ID, conn.Generation, humantime.Until(time.Now(), conn.ExpiresAt))
	return exitOK
}

const revokeUsage = `Usage: tokentray revoke CONN

Revokes the connection at the provider (through the relay) and wipes it
from the agent. The local wipe happens even when the provider cannot be
reached; then the exit code is 1, since the key may live until it expires.
`

func runRevoke(env Env, args []string) int {
	pos, code, ok := parseArgs(env, "revoke", revokeUsage, newFlags("revoke"), args, 1, 1)
	if !ok {
		return code
	}
	res, err := client(env).Revoke(env.Context, pos[0])
	if err != nil {
		return fail(env, "revoke", err)
	}
	if !res.RevokedAtProvider {
		fmt.Fprintf(env.Stderr, "tokentray revoke: %s is wiped here, but the provider did not confirm the revocation: %s\n", pos[0], res.Message)
		return exitError
	}
	fmt.Fprintf(env.Stderr, "tokentray revoke: %s is revoked at the provider and wiped here\n", pos[0])
	return exitOK
}

const statusUsage = `Usage: tokentray status

Prints whether the agent runs: its version, pid, number of connections,
number of revocations the provider has not confirmed yet (retried until it
does) and socket. Exit code 4 when no agent answers.
`

func runStatus(env Env, args []string) int {
	if _, code, ok := parseArgs(env, "status", statusUsage, newFlags("status"), args, 0, 0); !ok {
		return code
	}
	sock := localclient.SocketPath(env.Getenv)
	st, err := localclient.NewClient(sock).Status(env.Context)
	if err != nil {
		return fail(env, "status", err)
	}
	fmt.Fprintf(env.Stdout, "agent running: version %s, pid %d, %d connection(s), %d pending revocation(s), socket %s\n",
		st.Version, st.PID, st.Connections, st.PendingRevocations, sock)
	return exitOK
}
