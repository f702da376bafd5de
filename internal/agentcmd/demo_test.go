package agentcmd

import "testing"

func TestShellQuote(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain path", "/tmp/tokentray-demo-1/agent.sock", "/tmp/tokentray-demo-1/agent.sock"},
		{"url", "http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"space", "/tmp/a b", "'/tmp/a b'"},
		{"quote", "/tmp/it's", `'/tmp/it'\''s'`},
		{"dollar", "/tmp/$HOME", "'/tmp/$HOME'"},
		{"empty", "", "''"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := shellQuote(tt.in); got != tt.want {
				t.Fatalf("shellQuote(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
