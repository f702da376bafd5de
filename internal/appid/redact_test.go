package appid

import (
	"strings"
	"testing"
)

func TestShowArgsHidesSecrets(t *testing.T) {
	const key = "Xk9fQ2mZ7pL4vB8nR1tY6wE3"                   // 24 characters, letters and digits
	const aksk = "Ak7Pq2Lm9Zx4Cv8Bn1Mq:Sk3Wd8Fg2Hj7Kl4Zx9Cv" // EXchange's AK:SK
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a flag and its value", []string{"bot", "--api-secret", "s3cr3t"}, "bot --api-secret ‹hidden›"},
		{"a flag=value", []string{"bot", "--password=hunter2"}, "bot --password=‹hidden›"},
		{"an environment assignment", []string{"env", "EXCHANGE_TOKEN=abc", "python3", "bot.py"}, "env EXCHANGE_TOKEN=‹hidden› python3 bot.py"},
		{"a header", []string{"curl", "-H", "Authorization: Bearer " + key, "https://x/api"}, `curl -H "Authorization: ‹hidden›" https://x/api`},
		{"a URL's password", []string{"psql", "postgres://ann:pw@db/trades"}, "psql postgres://ann:‹hidden›@db/trades"},
		{"a bare key", []string{"bot", key}, "bot ‹hidden›"},
		{"a bare AK:SK", []string{"bot", aksk}, "bot ‹hidden›"},
		{"a flag followed by another flag", []string{"bot", "--token", "--dry-run"}, "bot --token --dry-run"},
		{"ordinary arguments stay", []string{"/usr/bin/python3", "/home/ann/bot.py", "--pair", "btcusd", "--size", "0.5", "2026-12-02"},
			"/usr/bin/python3 /home/ann/bot.py --pair btcusd --size 0.5 2026-12-02"},
		{"a long word without digits stays", []string{"bot", "averyveryverylongwordwithoutdigits"}, "bot averyveryverylongwordwithoutdigits"},
		{"quoting still applies", []string{"sh", "-c", "echo hi"}, `sh -c "echo hi"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ShowArgs(tt.args)
			if got != tt.want {
				t.Fatalf("ShowArgs(%q) = %q, want %q", tt.args, got, tt.want)
			}
			for _, secret := range []string{"s3cr3t", "hunter2", "=abc", ":pw@", key, aksk} {
				if strings.Contains(got, secret) {
					t.Fatalf("ShowArgs(%q) shows %q: %q", tt.args, secret, got)
				}
			}
		})
	}
}
