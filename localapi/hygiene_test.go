package localapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/localapi"
	"github.com/tokentray/tokentray/localclient"
)

// TestSignMethods: /sign signs only GET POST PUT PATCH DELETE (any case); a
// method with a line break, a "|" or anything else is bad_request, and the
// connection is untouched.
func TestSignMethods(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.connect()
	tests := []struct {
		method string
		ok     bool
	}{
		{"GET", true}, {"post", true}, {"PUT", true}, {"Patch", true}, {"DELETE", true},
		{"GET\r\nX-Evil: 1", false}, {"GET|/api/v2/x", false}, {"HEAD", false}, {"TRACE", false},
		{" GET", false}, {"GET\n", false}, {"CONNECT", false},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.method), func(t *testing.T) {
			body, _ := json.Marshal(localclient.SignRequest{Method: tt.method, Path: "/api/v2/orders", Params: map[string]string{"market": "btcusd"}})
			status, _, answer := e.raw("POST", "/v1/connections/"+c.ID+"/sign", bytes.NewReader(body), nil)
			if tt.ok && status != 200 {
				t.Errorf("sign %q = %d %s, want 200", tt.method, status, answer)
			}
			if !tt.ok && (status != 400 || !strings.Contains(string(answer), "bad_request") || !strings.Contains(string(answer), "not one of GET POST PUT PATCH DELETE")) {
				t.Errorf("sign %q = %d %s, want 400 bad_request naming the methods", tt.method, status, answer)
			}
		})
	}
	e.healthy(c.ID)
}

// TestSlowBodyIsCut: a request body that does not arrive within the body
// deadline is answered 400 and its connection closed, instead of holding
// the connection forever; a connect stream that lasts longer than the
// deadline, once its body is read, is not cut.
func TestSlowBodyIsCut(t *testing.T) {
	defer localapi.SetBodyReadTimeout(300 * time.Millisecond)()
	e := newEnv(t, envOptions{browser: func(_ context.Context, u string) error {
		time.AfterFunc(time.Second, func() { devstack.Browse(context.Background(), u) }) // the stream outlives the deadline
		return nil
	}})
	c := e.connect()

	conn, err := net.Dial("unix", e.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second)) // far beyond the 300 ms
	io.WriteString(conn, "POST /v1/connections/"+c.ID+"/sign HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n{\"method\":")
	answer, err := io.ReadAll(conn) // the server answers, then closes
	if err != nil {
		t.Fatalf("the agent held the connection of a slow body: %v (got %q)", err, answer)
	}
	if !bytes.HasPrefix(answer, []byte("HTTP/1.1 400")) || !bytes.Contains(answer, []byte("did not arrive within")) {
		t.Errorf("slow body answered %q, want 400 saying the body did not arrive", answer)
	}
	e.healthy(c.ID)
}
