package vault

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/zalando/go-keyring"
)

// keyringService is the service name of every tokentray keyring item (docs/config.md).
const keyringService = "tokentray"

var errNotFound = keyring.ErrNotFound

// Keyring stores small secrets by service and user name. The OS keyring implements it;
// tests use fakes. Get must return an error wrapping ErrItemNotFound when there is no item.
// The vault calls Set only for an item Get has just reported missing: it never overwrites.
//
// Go strings: the interface (like go-keyring's) passes the base64 vault key as a Go
// string, which cannot be wiped. This is the one place the key exists outside locked
// memory; it is a short-lived copy the garbage collector frees.
type Keyring interface {
	// Get returns the item's secret, or an error wrapping ErrItemNotFound.
	Get(service, user string) (string, error)
	// Set creates the item.
	Set(service, user, password string) error
}

// keyringAccount is the keyring user name of the vault with the given id.
func keyringAccount(id string) string { return "vault-" + id }

// osKeyring is the OS keyring through go-keyring, its errors mapped to the vault's sentinels.
type osKeyring struct{}

// Get implements Keyring.
func (osKeyring) Get(service, user string) (string, error) {
	if err := checkSessionBus(os.Getenv); err != nil {
		return "", err
	}
	s, err := keyring.Get(service, user)
	return s, classifyKeyringError(err)
}

// Set implements Keyring.
func (osKeyring) Set(service, user, password string) error {
	if err := checkSessionBus(os.Getenv); err != nil {
		return err
	}
	return classifyKeyringError(keyring.Set(service, user, password))
}

// timeoutKeyring bounds every call of an inner Keyring. go-keyring has no timeout of its
// own: on Linux a call blocks until the Secret Service answers, and a locked collection
// makes it wait for an unlock prompt that may never be answered (no desktop, dialog hidden).
// The call then keeps running in its goroutine (it cannot be cancelled) and ends when the
// prompt is answered or dismissed; Open has already returned ErrKeyringTimeout, and the
// user answers the prompt and opens again.
type timeoutKeyring struct {
	inner   Keyring
	timeout time.Duration
}

// get calls inner.Get within the timeout and ctx.
func (k timeoutKeyring) get(ctx context.Context, service, user string) (string, error) {
	return withTimeout(ctx, k.timeout, func() (string, error) { return k.inner.Get(service, user) })
}

// set calls inner.Set within the timeout and ctx.
func (k timeoutKeyring) set(ctx context.Context, service, user, password string) error {
	_, err := withTimeout(ctx, k.timeout, func() (struct{}, error) {
		return struct{}{}, k.inner.Set(service, user, password)
	})
	return err
}

// withTimeout runs fn in a goroutine and waits for it, the timeout or ctx.
func withTimeout[T any](ctx context.Context, d time.Duration, fn func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1) // buffered: a late answer never blocks the goroutine
	go func() {
		v, err := fn()
		done <- result{v, err}
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	var zero T
	select {
	case r := <-done:
		return r.v, r.err
	case <-t.C:
		return zero, fmt.Errorf("keyring call after %v: %w", d, ErrKeyringTimeout)
	case <-ctx.Done():
		return zero, fmt.Errorf("keyring call: %w", ctx.Err())
	}
}
