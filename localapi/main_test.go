package localapi_test

import (
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/internal/fakeexchange"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind: a
// connect flow, refresh or stream still running after its agent stopped.
func TestMain(m *testing.M) {
	if dir := os.Getenv(devstackEnv); dir != "" {
		serveDevstack(dir) // a child of TestSecretKeyStaysInLockedMemory
	}
	// memguard re-keys its coffer from one goroutine for the life of the
	// process; it is not a leak of ours.
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/awnumar/memguard/core.NewCoffer.func1"))
}

// devstackEnv, when set, makes the test binary a devstack server instead
// (see serveDevstack): the exchange issues the secret keys and must keep
// them, so it runs in a process of its own and only the agent's copies are
// in the process the memory test scans.
const devstackEnv = "TOKENTRAY_TEST_DEVSTACK_DIR"

// serveDevstack runs the exchange and the relay, prints the relay's URL and
// serves until stdin closes.
func serveDevstack(dir string) {
	stack, err := devstack.Start(devstack.Options{Dir: dir, Approval: fakeexchange.AutoApprove})
	if err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
	fmt.Printf("%s\n", stack.RelayURL)
	io.Copy(io.Discard, os.Stdin)
	stack.Close()
	os.Exit(0)
}
