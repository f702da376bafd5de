package app

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/humantime"
	"github.com/tokentray/tokentray/localclient"
)

func TestSentence(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"provider refusal keeps its words",
			&localclient.Error{Code: localclient.CodeProviderError, Message: "connect EXchange: oauthflow: connect exchange: provider error access_denied: The resource owner or authorization server denied the request."},
			"EXchange refused: The resource owner or authorization server denied the request."},
		{"provider refusal without words",
			&localclient.Error{Code: localclient.CodeProviderError, Message: "refresh: provider error invalid_grant"},
			"EXchange refused: invalid grant."},
		{"relay down", &localclient.Error{Code: localclient.CodeRelayUnreachable, Message: "oauthflow: relay unreachable: dial tcp 127.0.0.1:1: connect: connection refused"},
			"The tokentray relay cannot be reached right now, so EXchange cannot be asked. Check your internet connection; tokentray will try again."},
		{"needs reconnect", &localclient.Error{Code: localclient.CodeNeedsReconnect, Message: "the provider refused the connection's grant; connect again"},
			"EXchange no longer accepts this connection. Reconnect it to use it again."},
		{"bad input", &localclient.Error{Code: localclient.CodeBadRequest, Message: "patch connection: label must be one line"},
			"Label must be one line."},
		{"internal", &localclient.Error{Code: localclient.CodeInternal, Message: "vault: seal: chacha20poly1305: bad key"},
			"Something went wrong inside tokentray; its log has the details."},
		{"agent gone", fmt.Errorf("get connections: %w", localclient.ErrAgentNotRunning),
			"The tokentray agent is not running, so nothing can be done right now. Start tokentray again."},
		{"slow agent", fmt.Errorf("refresh: %w", context.DeadlineExceeded),
			"The tokentray agent took too long to answer. Try again in a moment."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sentence(tt.err, "EXchange")
			if got != tt.want {
				t.Fatalf("sentence(%q) = %q, want %q", tt.err, got, tt.want)
			}
			for _, jargon := range []string{"oauthflow", "vault:", "dial tcp", "provider error", "%!"} {
				if strings.Contains(got, jargon) {
					t.Fatalf("sentence(%q) = %q holds %q", tt.err, got, jargon)
				}
			}
		})
	}
}

func TestUntilAndAgo(t *testing.T) {
	now := time.Date(2026, 3, 1, 11, 20, 0, 0, time.UTC)
	if got, want := humantime.Until(now, now.Add(3*time.Hour+12*time.Minute)), "until 14:32, 3 h 12 min left"; got != want {
		t.Errorf("untilText = %q, want %q", got, want)
	}
	if got, want := humantime.Until(now, now.Add(-time.Minute)), "expired"; got != want {
		t.Errorf("humantime.Until(past) = %q, want %q", got, want)
	}
	if got, want := humantime.Until(now, now.Add(30*time.Hour)), "until Mon 17:20, 1 d 6 h left"; got != want {
		t.Errorf("humantime.Until(a day) = %q, want %q", got, want)
	}
	for _, tt := range []struct {
		ago  time.Duration
		want string
	}{{10 * time.Second, "just now"}, {4 * time.Minute, "4 min ago"}, {125 * time.Minute, "2 h 5 min ago"}} {
		if got := agoText(now, now.Add(-tt.ago)); got != tt.want {
			t.Errorf("agoText(%v) = %q, want %q", tt.ago, got, tt.want)
		}
	}
}
