package vault

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/awnumar/memguard"
	"github.com/zalando/go-keyring"
)

// recordingKeyring forwards to a shared Keyring and entries the accounts it touched.
type recordingKeyring struct {
	inner Keyring
	mu    sync.Mutex
	users map[string]int // "get user" / "set user" → count
}

func (k *recordingKeyring) Get(service, user string) (string, error) {
	k.note("get " + user)
	return k.inner.Get(service, user)
}

func (k *recordingKeyring) Set(service, user, password string) error {
	k.note("set " + user)
	return k.inner.Set(service, user, password)
}

func (k *recordingKeyring) note(s string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.users[s]++
}

// TestTwoHomesSideBySide opens two vault homes at once over one keyring: each has its own
// id and item, each only ever touches its own item, and each item is set exactly once.
func TestTwoHomesSideBySide(t *testing.T) {
	tests := []struct {
		name  string
		inner func(t *testing.T) Keyring
	}{
		{"keyring fake", func(*testing.T) Keyring { return newMemKeyring() }},
		{"Secret Service", func(t *testing.T) Keyring { requireSecretService(t); return osKeyring{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shared := tt.inner(t)
			homes := [2]string{t.TempDir(), t.TempDir()}
			entries := [2]*recordingKeyring{}
			ids := [2]string{}
			for round := range 2 { // create, then reopen
				vs := [2]*Vault{}
				for i, dir := range homes {
					if entries[i] == nil {
						entries[i] = &recordingKeyring{inner: shared, users: map[string]int{}}
					}
					v, err := Open(context.Background(), Options{Dir: dir, Keyring: entries[i]})
					if err != nil {
						t.Fatalf("home %d round %d: %v", i, round, err)
					}
					vs[i], ids[i] = v, v.ID()
				}
				for i, v := range vs {
					want := "home-" + string(rune('A'+i))
					if round == 0 {
						if err := v.Put("who", Entry{Secrets: map[string]*memguard.Enclave{"s": secret(want)}}); err != nil {
							t.Fatal(err)
						}
					} else if r, ok := v.Get("who"); !ok || reveal(t, r.Secrets["s"]) != want {
						t.Errorf("home %d holds the wrong entry after reopen", i)
					}
					v.Close()
				}
			}
			if ids[0] == ids[1] {
				t.Fatalf("two homes share vault id %s", ids[0])
			}
			for i, r := range entries {
				for call, n := range r.users {
					if !strings.HasSuffix(call, keyringAccount(ids[i])) {
						t.Errorf("home %d touched %q", i, call)
					}
					if strings.HasPrefix(call, "set ") && n != 1 {
						t.Errorf("home %d set its item %d times, want once", i, n)
					}
				}
			}
			if _, ok := shared.(osKeyring); ok {
				for _, id := range ids {
					keyring.Delete(keyringService, keyringAccount(id))
				}
			}
		})
	}
}
