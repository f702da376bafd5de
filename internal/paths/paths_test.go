package paths

import (
	"errors"
	"path/filepath"
	"testing"
)

func TestSocket(t *testing.T) {
	tests := []struct {
		name, goos, home string
		env              map[string]string
		want             string
	}{
		{"override wins on linux", "linux", "/home/a", map[string]string{"TOKENTRAY_SOCK": "/x/s", "XDG_RUNTIME_DIR": "/run/user/7"}, "/x/s"},
		{"override wins on macOS", "darwin", "/Users/a", map[string]string{"TOKENTRAY_SOCK": "/x/s"}, "/x/s"},
		{"override wins on windows", "windows", `C:\Users\a`, map[string]string{"TOKENTRAY_SOCK": `D:\s`, "LOCALAPPDATA": `C:\L`}, `D:\s`},
		{"linux runtime dir", "linux", "/home/a", map[string]string{"XDG_RUNTIME_DIR": "/run/user/7"}, "/run/user/7/tokentray/agent.sock"},
		{"linux without runtime dir", "linux", "/home/a", nil, "/tmp/tokentray-7/agent.sock"},
		{"freebsd like linux", "freebsd", "/home/a", map[string]string{"XDG_RUNTIME_DIR": "/var/run/user/7"}, "/var/run/user/7/tokentray/agent.sock"},
		{"macOS application support", "darwin", "/Users/a", map[string]string{"XDG_RUNTIME_DIR": "/ignored", "TMPDIR": "/var/folders/x/T/"}, filepath.Join("/Users/a", "Library", "Application Support", "tokentray", "agent.sock")},
		{"macOS without home", "darwin", "", nil, "/tmp/tokentray-7/agent.sock"},
		{"windows local app data", "windows", `C:\Users\a`, map[string]string{"LOCALAPPDATA": `C:\Users\a\AppData\Local`, "XDG_RUNTIME_DIR": "/ignored"}, filepath.Join(`C:\Users\a\AppData\Local`, "tokentray", "agent.sock")},
		{"windows without LOCALAPPDATA", "windows", `C:\Users\a`, nil, filepath.Join(`C:\Users\a`, "AppData", "Local", "tokentray", "agent.sock")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Env{GOOS: tt.goos, Getenv: func(k string) string { return tt.env[k] }, Home: tt.home, UID: 7}
			if got := Socket(e); got != tt.want {
				t.Errorf("Socket(%s, %v) = %q, want %q", tt.goos, tt.env, got, tt.want)
			}
		})
	}
}

func TestStateDirs(t *testing.T) {
	appSupport := filepath.Join("/Users/a", "Library", "Application Support", "tokentray")
	tests := []struct {
		name, goos, home string
		env              map[string]string
		config, data     string
	}{
		{"home override on linux", "linux", "/home/a", map[string]string{"TOKENTRAY_HOME": "/t", "XDG_CONFIG_HOME": "/c"}, "/t", "/t"},
		{"home override on macOS", "darwin", "/Users/a", map[string]string{"TOKENTRAY_HOME": "/t"}, "/t", "/t"},
		{"home override on windows", "windows", `C:\Users\a`, map[string]string{"TOKENTRAY_HOME": `D:\t`, "APPDATA": `C:\R`}, `D:\t`, `D:\t`},
		{"linux XDG", "linux", "/home/a", map[string]string{"XDG_CONFIG_HOME": "/c", "XDG_DATA_HOME": "/d"}, "/c/tokentray", "/d/tokentray"},
		{"linux defaults", "linux", "/home/a", nil, "/home/a/.config/tokentray", "/home/a/.local/share/tokentray"},
		{"linux relative XDG ignored", "linux", "/home/a", map[string]string{"XDG_CONFIG_HOME": "rel", "XDG_DATA_HOME": "rel"}, "/home/a/.config/tokentray", "/home/a/.local/share/tokentray"},
		{"macOS application support, XDG ignored", "darwin", "/Users/a", map[string]string{"XDG_CONFIG_HOME": "/c", "XDG_DATA_HOME": "/d"}, appSupport, appSupport},
		{"windows roaming app data", "windows", `C:\Users\a`, map[string]string{"APPDATA": `C:\Users\a\AppData\Roaming`, "XDG_CONFIG_HOME": "/c"}, filepath.Join(`C:\Users\a\AppData\Roaming`, "tokentray"), filepath.Join(`C:\Users\a\AppData\Roaming`, "tokentray")},
		{"windows without APPDATA", "windows", `C:\Users\a`, nil, filepath.Join(`C:\Users\a`, "AppData", "Roaming", "tokentray"), filepath.Join(`C:\Users\a`, "AppData", "Roaming", "tokentray")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Env{GOOS: tt.goos, Getenv: func(k string) string { return tt.env[k] }, Home: tt.home, UID: 7}
			if got, err := ConfigDir(e); err != nil || got != tt.config {
				t.Errorf("ConfigDir(%s, %v) = %q, %v; want %q", tt.goos, tt.env, got, err, tt.config)
			}
			if got, err := DataDir(e); err != nil || got != tt.data {
				t.Errorf("DataDir(%s, %v) = %q, %v; want %q", tt.goos, tt.env, got, err, tt.data)
			}
		})
	}
}

func TestStateDirsWithoutHome(t *testing.T) {
	for _, goos := range []string{"linux", "darwin", "windows"} {
		e := Env{GOOS: goos, Getenv: func(string) string { return "" }, UID: 7}
		if got, err := ConfigDir(e); !errors.Is(err, errNoHome) {
			t.Errorf("ConfigDir(%s, no home) = %q, %v; want errNoHome", goos, got, err)
		}
		if got, err := DataDir(e); !errors.Is(err, errNoHome) {
			t.Errorf("DataDir(%s, no home) = %q, %v; want errNoHome", goos, got, err)
		}
	}
}
