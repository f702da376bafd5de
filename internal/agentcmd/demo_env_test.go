package agentcmd

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/internal/cli"
)

// The tray app of the demo writes its "Start at login" entry under
// XDG_CONFIG_HOME: the demo's environment must keep that in its temporary
// home, never the user's ~/.config.
func TestDemoEnvironmentKeepsConfigInTheTemporaryHome(t *testing.T) {
	home := t.TempDir()
	d := &demo{home: home, socket: filepath.Join(home, "agent.sock"), env: cli.Env{Getenv: func(k string) string {
		return map[string]string{"HOME": "/home/trader", "XDG_CONFIG_HOME": "/home/trader/.config", "PATH": "/usr/bin"}[k]
	}}}
	for _, k := range []string{"TOKENTRAY_HOME", "XDG_CONFIG_HOME", "TOKENTRAY_SOCK"} {
		if got := d.getenv(k); !strings.HasPrefix(got, home+string(filepath.Separator)) && got != home {
			t.Errorf("demo getenv(%q) = %q, want a path in the temporary home %s", k, got, home)
		}
	}
	if got := d.getenv("PATH"); got != "/usr/bin" {
		t.Errorf("demo getenv(PATH) = %q, want the process's", got)
	}
}
