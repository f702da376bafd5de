package fakeexchange

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves a goroutine behind, such as a
// request held by FailHang.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
