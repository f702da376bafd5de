package localclient_test

import (
	"os"
	"strconv"
	"testing"

	"github.com/tokentray/tokentray/localclient"
)

func TestSocketPath(t *testing.T) {
	tmp := "/tmp/tokentray-" + strconv.Itoa(os.Getuid()) + "/agent.sock"
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"TOKENTRAY_SOCK wins", map[string]string{"TOKENTRAY_SOCK": "/x/s.sock", "XDG_RUNTIME_DIR": "/run/user/1"}, "/x/s.sock"},
		{"XDG_RUNTIME_DIR", map[string]string{"XDG_RUNTIME_DIR": "/run/user/1"}, "/run/user/1/tokentray/agent.sock"},
		{"fallback", map[string]string{}, tmp},
		{"fallback ignores TMPDIR", map[string]string{"TMPDIR": "/var/tmp"}, tmp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env["TMPDIR"] != "" {
				t.Setenv("TMPDIR", tt.env["TMPDIR"])
			}
			got := localclient.SocketPath(func(k string) string { return tt.env[k] })
			if got != tt.want {
				t.Fatalf("SocketPath(%v) = %q, want %q", tt.env, got, tt.want)
			}
		})
	}
}
