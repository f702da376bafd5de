package approval

import (
	"strings"
	"testing"

	"github.com/tokentray/tokentray/internal/appid"
)

// TestHintWithoutTray: with no tray to ask (a headless agent) neither the
// tray's prompt nor a proposal approves anything, so the hint says what
// works: start the tray app, which runs the agent and asks.
func TestHintWithoutTray(t *testing.T) {
	script := appid.App{Kind: appid.Script, Key: "k", Name: "python3 bot.py", Exe: "/usr/bin/python3", Script: "/h/bot.py"}
	once := appid.App{Kind: appid.Unidentified, Name: "python3", Reason: "runs inline code (-c)"}
	term := appid.App{Kind: appid.Terminal, Key: appid.TerminalKey, Name: "interactive terminal"}
	for _, tc := range []struct {
		app     appid.App
		reason  string
		want    []string
		wantNot string
	}{
		{script, reasonNoTray, []string{"start the tray app (tokentray with no arguments runs the agent and asks",
			"App approval in docs/config.md", "answer Always", "tokentray approve /h/bot.py --connection c1"}, "approve it in the tray,"},
		{once, reasonNoTray, []string{"only be allowed once", "start the tray app"}, ""},
		{term, reasonNoTray, []string{"start the tray app", "answer Always"}, "tokentray approve"},
		{script, "no answer within 1m0s", []string{"approve it in the tray, or propose it with: tokentray approve /h/bot.py"}, "start the tray app"},
	} {
		err := required(Request{App: tc.app, Connection: "c1", Op: "token"}, tc.reason)
		msg := err.Error()
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s, %s: %q lacks %q", tc.app.Name, tc.reason, msg, w)
			}
		}
		if tc.wantNot != "" && strings.Contains(msg, tc.wantNot) {
			t.Errorf("%s, %s: %q says %q", tc.app.Name, tc.reason, msg, tc.wantNot)
		}
	}
}
