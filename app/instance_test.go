package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSecondInstanceShowsTheFirst(t *testing.T) {
	sock := filepath.Join(shortTemp(t), "run", "agent.sock")
	first, err := ClaimInstance(sock)
	if err != nil {
		t.Fatalf("ClaimInstance (first) = %v", err)
	}
	defer first.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	shown := make(chan struct{}, 1)
	go first.Serve(ctx, func() { shown <- struct{}{} })

	if _, err := ClaimInstance(sock); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("ClaimInstance (second) = %v, want ErrAlreadyRunning", err)
	}
	if err := ShowRunning(sock); err != nil {
		t.Fatalf("ShowRunning = %v", err)
	}
	select {
	case <-shown:
	default:
		t.Fatal("ShowRunning returned before the first instance showed its window")
	}
}

func TestClaimAfterTheFirstEnded(t *testing.T) {
	sock := filepath.Join(shortTemp(t), "agent.sock")
	first, err := ClaimInstance(sock)
	if err != nil {
		t.Fatal(err)
	}
	first.Close() // as a crash would: the lock goes, the socket file stays
	again, err := ClaimInstance(sock)
	if err != nil {
		t.Fatalf("ClaimInstance after the first ended = %v, want the claim", err)
	}
	again.Close()
	if err := ShowRunning(sock); err == nil {
		t.Fatal("ShowRunning with nobody running = nil, want an error")
	}
}

// shortTemp is a temporary folder with a short path: a Unix socket path
// must fit in 108 bytes, and t.TempDir's can be longer.
func shortTemp(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "tt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}
