package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tokentray/tokentray/localclient"
)

const appsUsage = `Usage: tokentray apps [--json]
       tokentray apps revoke ID|PATH

Lists the app grants of app approval on stdout, one a line: ID, DECISION
(always or deny), CONNECTION, USES, LAST USE (RFC 3339, UTC, or "-"), APP
(the script, else the executable), separated by tabs. --json prints the
agent's /v1/apps body instead. A grant is made only by a human in the
tokentray window.

revoke removes a grant, by its ID or by the path of its script or program
(every grant of that app): the app is asked again at its next request.
`

func runApps(env Env, args []string) int {
	fs := newFlags("apps")
	asJSON := fs.Bool("json", false, "")
	pos, code, ok := parseArgs(env, "apps", appsUsage, fs, args, 0, 2)
	if !ok {
		return code
	}
	switch {
	case len(pos) == 2 && pos[0] == "revoke" && !*asJSON:
		return revokeApps(env, pos[1])
	case len(pos) > 0:
		return usageFail(env, "apps", appsUsage, fmt.Errorf("unknown arguments %q; the one subcommand is: revoke ID|PATH", strings.Join(pos, " ")))
	}
	apps, err := client(env).Apps(env.Context)
	if err != nil {
		return fail(env, "apps", err)
	}
	if *asJSON {
		if apps == nil {
			apps = []localclient.App{}
		}
		return printJSON(env, "apps", map[string]any{"apps": apps})
	}
	if len(apps) == 0 {
		fmt.Fprintln(env.Stderr, "tokentray apps: no app has a grant yet")
		return exitOK
	}
	var out bytes.Buffer
	tw := tabwriter.NewWriter(&out, 0, 4, 2, ' ', 0)
	for _, a := range apps {
		last := "-"
		if !a.LastUsed.IsZero() {
			last = a.LastUsed.UTC().Format(time.RFC3339)
		}
		what := a.Exe
		if a.Script != "" {
			what = a.Exe + " " + a.Script
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", a.ID, a.Decision, a.Connection, a.Uses, last, what)
	}
	tw.Flush()
	env.Stdout.Write(out.Bytes())
	return exitOK
}

// revokeApps revokes the grant with id what, or every grant whose script or
// program is the file at path what.
func revokeApps(env Env, what string) int {
	c := client(env)
	apps, err := c.Apps(env.Context)
	if err != nil {
		return fail(env, "apps", err)
	}
	path, _ := filepath.Abs(what)
	var ids []string
	for _, a := range apps {
		if a.ID == what || a.Script == path || (a.Script == "" && a.Exe == path) {
			ids = append(ids, a.ID)
		}
	}
	if len(ids) == 0 {
		fmt.Fprintf(env.Stderr, "tokentray apps: no grant has the id or the app %q; tokentray apps lists them.\n", what)
		return exitNotConnected
	}
	for _, id := range ids {
		if err := c.RevokeApp(env.Context, id); err != nil {
			return fail(env, "apps", err)
		}
		fmt.Fprintf(env.Stderr, "tokentray apps: revoked the grant %s; the app is asked again at its next request.\n", id)
	}
	return exitOK
}

const approveUsage = `Usage: tokentray approve PATH|SCRIPT [--connection ID]

Proposes an app for approval: the executable at PATH, or the script SCRIPT
under the interpreter its #! line names. This grants nothing: a human must
confirm the proposal in the tokentray window. --connection names the
connection the app is meant for (else the human picks one).
`

func runApprove(env Env, args []string) int {
	fs := newFlags("approve")
	conn := fs.String("connection", "", "")
	pos, code, ok := parseArgs(env, "approve", approveUsage, fs, args, 1, 1)
	if !ok {
		return code
	}
	path, err := filepath.Abs(pos[0])
	if err != nil {
		return fail(env, "approve", err)
	}
	req := localclient.ProposalRequest{Exe: path, Connection: *conn}
	if isScript(path) {
		req = localclient.ProposalRequest{Script: path, Connection: *conn}
	}
	p, err := client(env).ProposeApp(env.Context, req)
	if err != nil {
		return fail(env, "approve", err)
	}
	where := "a connection the human picks"
	if p.Connection != "" {
		where = "the connection " + p.Connection
	}
	fmt.Fprintf(env.Stderr, "tokentray approve: proposed %s for %s. Nothing is granted yet: a human must confirm it in the tokentray window.\n", p.App, where)
	return exitOK
}

// isScript reports whether the file at path starts with "#!".
func isScript(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 2)
	n, _ := f.Read(head)
	return n == 2 && string(head) == "#!"
}
