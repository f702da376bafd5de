package localapi_test

import (
	"errors"
	"testing"

	"github.com/tokentray/tokentray/localclient"
)

func TestPatchDefault(t *testing.T) {
	e := newEnv(t, envOptions{})
	conn := e.connect()
	if conn.Default {
		t.Fatalf("a new connection is already the default: %+v", conn)
	}
	on := true
	got, err := e.client.UpdateConnection(t.Context(), conn.ID, localclient.ConnectionPatch{Default: &on})
	if err != nil || !got.Default {
		t.Fatalf("PATCH default true = %+v, %v", got, err)
	}
	if byProvider, err := e.client.Connection(t.Context(), conn.Provider); err != nil || byProvider.ID != conn.ID || !byProvider.Default {
		t.Fatalf("GET by the provider id = %+v, %v", byProvider, err)
	}
	off := false
	if _, err := e.client.UpdateConnection(t.Context(), conn.ID, localclient.ConnectionPatch{Default: &off}); !errors.Is(err, localclient.ErrBadRequest) {
		t.Fatalf("PATCH default false = %v, want bad_request", err)
	}
	if still, _ := e.client.Connection(t.Context(), conn.ID); !still.Default {
		t.Fatal("a refused patch cleared the default")
	}
}
