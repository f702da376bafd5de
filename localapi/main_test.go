package localapi_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind: a
// connect flow, refresh or stream still running after its agent stopped.
func TestMain(m *testing.M) {
	// memguard re-keys its coffer from one goroutine for the life of the
	// process; it is not a leak of ours.
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/awnumar/memguard/core.NewCoffer.func1"))
}
