//go:build !darwin && !windows

package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestAutostartWritesAndRemovesTheEntry(t *testing.T) {
	cfg := t.TempDir()
	getenv := envOf(map[string]string{"XDG_CONFIG_HOME": cfg, "HOME": t.TempDir()})
	path := filepath.Join(cfg, "autostart", "tokentray.desktop")
	if autostartOn(getenv) {
		t.Fatal("autostart on before anything was written")
	}
	if err := setAutostart(getenv, "/opt/token tray/tokentray", true); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the entry is not at %s: %v", path, err)
	}
	for _, want := range []string{"[Desktop Entry]\n", "Type=Application\n", "Exec=\"/opt/token tray/tokentray\"\n", "Name=tokentray\n"} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("entry lacks %q:\n%s", want, b)
		}
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("entry mode %v, want 0600", fi.Mode().Perm())
	}
	if !autostartOn(getenv) {
		t.Fatal("autostartOn = false after writing")
	}
	if err := setAutostart(getenv, "/usr/bin/tokentray", true); err != nil {
		t.Fatalf("rewriting: %v", err)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), `Exec="/usr/bin/tokentray"`) {
		t.Fatalf("rewritten entry:\n%s", b)
	}
	for range 2 { // removing twice is fine
		if err := setAutostart(getenv, "", false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the entry outlived turning autostart off: %v", err)
	}
}

func TestAutostartDefaultsToHomeConfig(t *testing.T) {
	home := t.TempDir()
	got, err := autostartPath(envOf(map[string]string{"HOME": home, "XDG_CONFIG_HOME": "relative/ignored"}))
	if want := filepath.Join(home, ".config", "autostart", "tokentray.desktop"); err != nil || got != want {
		t.Fatalf("autostartPath = %q, %v; want %q", got, err, want)
	}
}

func TestAutostartRefusesBadPathsAndKeepsTheEntry(t *testing.T) {
	cfg := t.TempDir()
	getenv := envOf(map[string]string{"XDG_CONFIG_HOME": cfg})
	if err := setAutostart(getenv, "/usr/bin/tokentray", true); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(cfg, "autostart", "tokentray.desktop")
	before, _ := os.ReadFile(path)
	tests := []struct{ name, exe, errText string }{
		{"relative", "tokentray", "absolute"},
		{"newline", "/tmp/x\nExec=/bin/evil", "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := setAutostart(getenv, tt.exe, true)
			if err == nil || !strings.Contains(err.Error(), tt.errText) {
				t.Fatalf("setAutostart(%q) = %v, want an error about %q", tt.exe, err, tt.errText)
			}
			if after, _ := os.ReadFile(path); string(after) != string(before) {
				t.Fatalf("a refused path changed the entry:\n%s", after)
			}
		})
	}
}

func TestExecQuote(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "/usr/bin/tokentray", `"/usr/bin/tokentray"`},
		{"space", "/a b/t", `"/a b/t"`},
		{"reserved", "/a\"$`/t", `"/a\\"\\$\\` + "`" + `/t"`},
		{"backslash", `/a\b`, `"/a\\\\b"`},
		{"percent", "/100%/t", `"/100%%/t"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := execQuote(tt.in); err != nil || got != tt.want {
				t.Fatalf("execQuote(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// execUnquote reads one quoted Exec argument back as a desktop would: undo
// the string escape, then the quoting, then %%.
func execUnquote(s string) (string, bool) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", false
	}
	s = strings.ReplaceAll(s[1:len(s)-1], `\\`, `\`)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case s[i] == '%' && i+1 < len(s) && s[i+1] == '%':
			i++
			b.WriteByte('%')
		case s[i] == '"' || s[i] == '\\' || s[i] == '%':
			return "", false
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), true
}

// FuzzExecQuote checks that any path either is refused or reads back exactly,
// on one line: a program path can never add a key to the entry.
func FuzzExecQuote(f *testing.F) {
	for _, s := range []string{"/usr/bin/tokentray", "/a b/t", "/a\"$`/t", `/a\b`, "/100%/t", "/x\nExec=y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		q, err := execQuote(in)
		if err != nil {
			return
		}
		if strings.ContainsAny(q, "\n\r") {
			t.Fatalf("execQuote(%q) = %q spans lines", in, q)
		}
		if back, ok := execUnquote(q); !ok || back != in {
			t.Fatalf("execQuote(%q) = %q reads back as %q (%v)", in, q, back, ok)
		}
	})
}
