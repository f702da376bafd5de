// Command tokentray-relay is the tokentray relay server: it holds the providers' client
// secrets, receives the OAuth callback and hands devices only sealed, device-bound
// refresh tokens.
//
//	tokentray-relay --config relay.toml          serve until SIGINT or SIGTERM
//	tokentray-relay --config relay.toml --check-config
//	tokentray-relay --config relay.toml --log-format text --log-level debug
//	tokentray-relay gen-key                      print a fresh "KID KEY" seal-keys line
//
// Logs go to stderr as JSON lines (log/slog) unless --log-format text. On SIGTERM the
// relay stops accepting and lets requests in flight finish, provider calls included,
// then exits 0.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tokentray/tokentray/relay"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole command; it returns the exit code: 0 ok, 1 error, 2 usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "gen-key" {
		if len(args) > 1 {
			fmt.Fprintln(stderr, "usage: tokentray-relay gen-key")
			return 2
		}
		line, err := genKey(time.Now())
		if err != nil {
			fmt.Fprintln(stderr, "tokentray-relay:", err)
			return 1
		}
		fmt.Fprintln(stdout, line)
		return 0
	}
	fs := flag.NewFlagSet("tokentray-relay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "the relay's TOML config `file` (required)")
	check := fs.Bool("check-config", false, "validate the config, seal keys, secrets and TLS files, then exit")
	logFormat := fs.String("log-format", "json", "log `format` on stderr: json or text")
	logLevel := fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: tokentray-relay --config FILE [--check-config] [--log-format json|text] [--log-level LEVEL] | tokentray-relay gen-key")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *configPath == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	log, err := newLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "tokentray-relay:", err)
		fs.Usage()
		return 2
	}
	cfg, err := relay.LoadConfig(*configPath)
	if err != nil {
		fmt.Fprintln(stderr, "tokentray-relay:", err)
		return 1
	}
	if *check {
		if _, err := relay.New(cfg, relay.WithLogger(log)); err != nil {
			fmt.Fprintln(stderr, "tokentray-relay:", err)
			return 1
		}
		fmt.Fprintf(stdout, "config ok: %d provider(s)\n", len(cfg.Providers))
		return 0
	}
	if err := relay.Run(ctx, cfg, relay.WithLogger(log)); err != nil {
		fmt.Fprintln(stderr, "tokentray-relay:", err)
		return 1
	}
	return 0
}

// newLogger builds the relay's slog logger writing format ("json" or "text") at level.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want json or text", format)
}

// genKey returns a seal-keys line: a key id of the date and 2 random bytes, and 32
// random bytes in padded standard base64.
func genKey(now time.Time) (string, error) {
	b := make([]byte, 34)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("gen-key: %w", err)
	}
	kid := "k" + now.UTC().Format("20060102") + "-" + hex.EncodeToString(b[32:])
	return kid + " " + base64.StdEncoding.EncodeToString(b[:32]), nil
}
