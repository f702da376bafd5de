package cli_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/awnumar/memguard"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tokentray/tokentray/internal/agentcmd"
	"github.com/tokentray/tokentray/internal/agentd"
	"github.com/tokentray/tokentray/internal/appid"
	"github.com/tokentray/tokentray/internal/approval"
	"github.com/tokentray/tokentray/internal/cli"
	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/internal/devworld"
	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/localclient"
)

// TestMain makes the test binary also the `tokentray` command of the
// scripts: a real process with real exit codes, which it also writes to
// $TOKENTRAY_TEST_EXITFILE for the scripts' `exitcode` command.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"tokentray": func() {
			code := cli.Main(os.Args[1:], cli.Env{
				Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin, Getenv: os.Getenv,
				Agent: agentcmd.Agent, Demo: agentcmd.Demo,
			})
			if f := os.Getenv("TOKENTRAY_TEST_EXITFILE"); f != "" {
				os.WriteFile(f, []byte(strconv.Itoa(code)), 0o600)
			}
			os.Exit(code)
		},
		// tokentray-faketray is a GUI build whose tray app checks the demo's
		// hook: it reaches the demo agent through Getenv's TOKENTRAY_SOCK,
		// then purges memory on its way out, as the real tray app does.
		"tokentray-faketray": func() {
			os.Exit(cli.Main(os.Args[1:], cli.Env{
				Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Tray: fakeTray,
				Agent: agentcmd.Agent, Demo: agentcmd.Demo,
			}))
		},
	})
}

func fakeTray(env cli.Env) int {
	defer memguard.Purge()
	st, err := localclient.NewClient(localclient.SocketPath(env.Getenv)).Status(env.Context)
	if err != nil {
		fmt.Fprintf(env.Stderr, "fake tray: %v\n", err)
		return 1
	}
	fmt.Fprintf(env.Stderr, "fake tray: attached to agent %s with home %t\n", st.Version, env.Getenv("TOKENTRAY_HOME") != "")
	return 0
}

const worldKey = "world"

// startWorld starts the simulated world: devstack and an agent with a
// memory vault, connected to nothing yet, whose browser approves at once.
func startWorld(tb testing.TB) *devworld.World {
	tb.Helper()
	w, err := devworld.Start(context.Background(), devworld.Options{
		Stack: devstack.Options{Approval: fakeexchange.AutoApprove},
		Agent: agentd.Options{Open: devstack.Browser, Version: "test"},
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { w.Close() })
	return w
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata",
		Setup: func(env *testscript.Env) error {
			w := startWorld(env.T().(testing.TB))
			env.Values[worldKey] = w
			env.Setenv("TOKENTRAY_SOCK", w.Socket)
			env.Setenv("TOKENTRAY_EXCHANGE", w.Stack.ExchangeURL)
			env.Setenv("TOKENTRAY_TEST_EXITFILE", filepath.Join(env.WorkDir, ".exitcode"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":    cmdExitcode,
			"waitsock":    cmdWaitsock,
			"exchange":    cmdExchange,
			"rawkeys":     cmdRawKeys,
			"relay":       cmdRelay,
			"approveapps": cmdApproveApps,
			"grantapp":    cmdGrantApp,
		},
	})
}

// cmdExitcode checks the exit code of the last tokentray command:
// exitcode N.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: exitcode N")
	}
	b, err := os.ReadFile(ts.Getenv("TOKENTRAY_TEST_EXITFILE"))
	ts.Check(err)
	if got := string(b); got != args[0] {
		ts.Fatalf("tokentray exited with %s, want %s", got, args[0])
	}
}

// cmdWaitsock waits up to 20 s for a socket to appear (or, negated, to go):
// waitsock PATH.
func cmdWaitsock(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: [!] waitsock PATH")
	}
	path := ts.MkAbs(args[0])
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		_, err := os.Stat(path)
		if (err == nil) != neg {
			return
		}
	}
	ts.Fatalf("waitsock %s: still %s after 20s", path, map[bool]string{false: "missing", true: "there"}[neg])
}

// cmdExchange acts on the simulated exchange: exchange expire-keys, or
// exchange sign-in-as-bob (the next consent connects a second account).
func cmdExchange(ts *testscript.TestScript, neg bool, args []string) {
	x := ts.Value(worldKey).(*devworld.World).Stack.Exchange
	switch strings.Join(args, " ") {
	case "expire-keys":
		x.ExpireAllKeys()
	case "sign-in-as-bob":
		x.SetMember(fakeexchange.Member{SN: "ID9Z8Y7X6W5V", Name: "Bob Trader", Email: "bob@example.com", Activated: true})
	default:
		ts.Fatalf("usage: exchange expire-keys|sign-in-as-bob")
	}
	if neg {
		ts.Fatalf("exchange does not fail")
	}
}

// cmdRelay stops or restarts the relay: relay down|up.
func cmdRelay(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 || (args[0] != "down" && args[0] != "up") {
		ts.Fatalf("usage: relay down|up")
	}
	ts.Value(worldKey).(*devworld.World).Stack.SetRelayDown(args[0] == "down")
}

// cmdRawKeys sets whether scripts may read the connection's raw keys, as the
// tray app's switch does: rawkeys CONN true|false.
func cmdRawKeys(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 || (args[1] != "true" && args[1] != "false") {
		ts.Fatalf("usage: rawkeys CONN true|false")
	}
	w := ts.Value(worldKey).(*devworld.World)
	on := args[1] == "true"
	_, err := w.Client.UpdateConnection(context.Background(), args[0], localclient.ConnectionPatch{RawKeys: &on})
	ts.Check(err)
}

// cmdApproveApps turns app approval on or off, as the tray app's window
// does in its own process (no socket call can): approveapps on|off.
func cmdApproveApps(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 || (args[0] != "on" && args[0] != "off") {
		ts.Fatalf("usage: approveapps on|off")
	}
	ts.Value(worldKey).(*devworld.World).Agent.Agent.SetApproveApps(args[0] == "on")
}

// cmdGrantApp grants the app at a path (relative to $WORK) the connection
// "exchange", as a human does in the tray's window: grantapp PATH.
func cmdGrantApp(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: grantapp PATH")
	}
	a := ts.Value(worldKey).(*devworld.World).Agent.Agent
	app, err := appid.New(appid.Config{}).IdentifyFile(ts.MkAbs(args[0]))
	ts.Check(err)
	_, err = a.GrantApp(app, "exchange", approval.Always)
	ts.Check(err)
}
