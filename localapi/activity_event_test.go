package localapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/localclient"
)

// nextActivity returns the next "activity" event, skipping others.
func nextActivity(t *testing.T, ch <-chan sseEvent) localclient.Activity {
	t.Helper()
	for ev := range ch {
		if ev.typ != "activity" {
			continue
		}
		var a localclient.Activity
		dec := json.NewDecoder(strings.NewReader(ev.data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			t.Fatalf("activity data %q: %v", ev.data, err)
		}
		return a
	}
	t.Fatal("the event stream ended before an activity event")
	return localclient.Activity{}
}

func TestActivityEventsCarryMethodAndPath(t *testing.T) {
	e := newEnv(t, envOptions{})
	conn := e.connect()
	_, events := openEvents(t, e, t.Context())
	if _, err := e.client.Sign(t.Context(), conn.ID, localclient.SignRequest{Method: "post", Path: "/api/v2/orders", Params: map[string]string{"market": "btcusd"}}); err != nil {
		t.Fatal(err)
	}
	a := nextActivity(t, events)
	if a.Op != "sign" || a.Method != "POST" || a.Path != "/api/v2/orders" || a.Connection != conn.ID || a.Label != conn.Label {
		t.Fatalf("sign activity = %+v, want sign POST /api/v2/orders on %s (%s)", a, conn.ID, conn.Label)
	}
	resp, err := e.client.Proxy(t.Context(), conn.ID, "GET", "members/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	a = nextActivity(t, events)
	if a.Op != "proxy" || a.Method != "GET" || !strings.HasSuffix(a.Path, "/members/me") || !strings.HasPrefix(a.Path, "/") {
		t.Fatalf("proxy activity = %+v, want proxy GET with the path as the exchange sees it", a)
	}
	if _, err := e.client.Token(t.Context(), conn.ID, 0); err != nil {
		t.Fatal(err)
	}
	if a = nextActivity(t, events); a.Op != "token" || a.Method != "" || a.Path != "" {
		t.Fatalf("token activity = %+v, want no method or path", a)
	}
	list, err := e.client.Activity(t.Context())
	if err != nil || len(list) < 3 || list[0].Op != "token" || list[1].Method != "GET" || list[2].Path != "/api/v2/orders" {
		t.Fatalf("GET /v1/activity = %+v, %v; want the same three, newest first", list, err)
	}
}
