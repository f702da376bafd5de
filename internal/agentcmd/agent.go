package agentcmd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/awnumar/memguard"

	"github.com/tokentray/tokentray/internal/agentd"
	"github.com/tokentray/tokentray/internal/cli"
	"github.com/tokentray/tokentray/localclient"
	"github.com/tokentray/tokentray/safesocket"
	"github.com/tokentray/tokentray/vault"
)

const agentUsage = `Usage: tokentray agent

Runs the agent in the foreground, without the tray app: it opens the vault,
serves the socket ($TOKENTRAY_SOCK, else $XDG_RUNTIME_DIR/tokentray/agent.sock)
and keeps the connections' keys fresh. It logs to stderr and stops cleanly on
SIGINT or SIGTERM (vault saved, memory wiped, socket removed). With
vault = "passphrase" in config.toml it asks for the passphrase on the
terminal (or reads one line from stdin).
`

func runAgent(env cli.Env, args []string) int {
	if _, code, ok := cli.ParseArgs(env, "agent", agentUsage, cli.NewFlags("agent"), args, 0, 0); !ok {
		return code
	}
	logger := slog.New(slog.NewTextHandler(env.Stderr, nil))
	slog.SetDefault(logger)
	ctx, stop := signal.NotifyContext(env.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// memguard.Purge runs on every way out; memguard.CatchInterrupt is not
	// used, since it would exit before the vault is saved.
	defer memguard.Purge()

	d, err := agentd.Start(ctx, agentd.Options{
		Getenv:     env.Getenv,
		Passphrase: func() ([]byte, error) { return askPassphrase(env) },
		Logger:     logger,
		Version:    cli.Version,
	})
	if errors.Is(err, safesocket.ErrAgentRunning) {
		fmt.Fprintf(env.Stderr, "tokentray agent: another agent already serves %s; stop it first, or set TOKENTRAY_SOCK to run a second one elsewhere\n",
			localclient.SocketPath(env.Getenv))
		return cli.ExitError
	}
	var running *vault.AlreadyRunningError
	if errors.As(err, &running) {
		fmt.Fprintf(env.Stderr, "tokentray agent: another tokentray (pid %d) already holds the vault; stop it first, or set TOKENTRAY_HOME to run a second one elsewhere\n", running.PID)
		return cli.ExitError
	}
	if err != nil {
		return cli.Fail(env, "agent", err)
	}
	served := make(chan error, 1)
	go func() { served <- d.Wait() }()
	code := cli.ExitOK
	select {
	case <-ctx.Done():
		logger.Info("stopping", "why", "signal")
	case err := <-served:
		logger.Error("the socket stopped serving", "err", err)
		code = cli.ExitError
	}
	d.Stop()
	logger.Info("stopped")
	return code
}

// askPassphrase asks for the vault passphrase on stderr and reads one line
// from stdin, without echo when stdin is a terminal.
func askPassphrase(env cli.Env) ([]byte, error) {
	if env.Stdin == nil {
		return nil, errors.New("no terminal to ask the vault passphrase on")
	}
	fmt.Fprint(env.Stderr, "tokentray agent: vault passphrase: ")
	defer fmt.Fprintln(env.Stderr)
	if f, ok := env.Stdin.(*os.File); ok {
		if p, done, err := readNoEcho(f); done {
			return p, err
		}
	}
	return readLine(env.Stdin)
}

// readLine reads one line, without its line ending.
func readLine(r io.Reader) ([]byte, error) {
	line, err := bufio.NewReader(r).ReadSlice('\n')
	if errors.Is(err, io.EOF) && len(line) == 0 {
		return nil, errors.New("no passphrase: stdin ended")
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read the passphrase: %w", err)
	}
	p := make([]byte, 0, len(line))
	for _, b := range line {
		if b != '\n' && b != '\r' {
			p = append(p, b)
		}
	}
	clear(line)
	if len(p) == 0 {
		return nil, errors.New("the passphrase is empty")
	}
	return p, nil
}
