package cli

import (
	"fmt"

	"github.com/tokentray/tokentray/localclient"
)

const defaultUsage = `Usage: tokentray default CONN

Marks the connection as its provider's default: the one scripts get when
they name the provider ("exchange") instead of a connection id. The
provider's other connections stop being the default.
`

func runDefault(env Env, args []string) int {
	pos, code, ok := parseArgs(env, "default", defaultUsage, newFlags("default"), args, 1, 1)
	if !ok {
		return code
	}
	on := true
	conn, err := client(env).UpdateConnection(env.Context, pos[0], localclient.ConnectionPatch{Default: &on})
	if err != nil {
		return fail(env, "default", err)
	}
	fmt.Fprintf(env.Stderr, "tokentray default: %s (%s) is now the default %s connection; scripts that name %q get it\n",
		conn.ID, conn.Label, conn.Provider, conn.Provider)
	return exitOK
}
