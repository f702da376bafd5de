// Command tokentray connects a trader's exchange account and hands fresh API keys
// to the trader's own scripts over a local socket. See README.md.
package main

import (
	"os"

	"github.com/tokentray/tokentray/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
