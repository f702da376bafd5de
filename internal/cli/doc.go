// Package cli implements the tokentray subcommands.
package cli
