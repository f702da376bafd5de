package appid

import (
	"slices"
	"strings"
	"testing"
)

var argvCases = []struct {
	name   string
	exe    string
	args   []string
	script string // "" when not pinned to a file
	stdin  bool
}{
	{"python script", "/usr/bin/python3.12", []string{"bot.py", "--live"}, "bot.py", false},
	{"python flags", "/usr/bin/python3", []string{"-u", "-B", "bot.py"}, "bot.py", false},
	{"python -W value", "/usr/bin/python3", []string{"-W", "ignore", "bot.py"}, "bot.py", false},
	{"python -Wvalue", "/usr/bin/python3", []string{"-Wignore", "bot.py"}, "bot.py", false},
	{"python -X value", "/usr/bin/python3", []string{"-X", "dev", "bot.py"}, "bot.py", false},
	{"python --", "/usr/bin/python3", []string{"--", "-odd.py"}, "-odd.py", false},
	{"python -c", "/usr/bin/python3", []string{"-c", "print(1)"}, "", false},
	{"python -uc", "/usr/bin/python3", []string{"-uc", "print(1)"}, "", false},
	{"python -m", "/usr/bin/python3", []string{"-m", "bot"}, "", false},
	{"python -i", "/usr/bin/python3", []string{"-i", "bot.py"}, "", false},
	{"python stdin", "/usr/bin/python3", []string{"-"}, "", true},
	{"python repl", "/usr/bin/python3", nil, "", true},
	{"python unknown long", "/usr/bin/python3", []string{"--weird", "bot.py"}, "", false},
	{"python unknown short", "/usr/bin/python3", []string{"-Z", "bot.py"}, "", false},
	{"bash script", "/bin/bash", []string{"-e", "run.sh"}, "run.sh", false},
	{"bash -o", "/bin/bash", []string{"-o", "pipefail", "run.sh"}, "run.sh", false},
	{"bash -c", "/bin/bash", []string{"-c", "curl x"}, "", false},
	{"bash -ec", "/bin/bash", []string{"-ec", "curl x"}, "", false},
	{"bash -s", "/bin/bash", []string{"-s", "run.sh"}, "", true},
	{"bash stdin", "/bin/bash", nil, "", true},
	{"sh --", "/bin/sh", []string{"--", "run.sh"}, "run.sh", false},
	{"zsh script", "/usr/bin/zsh", []string{"run.zsh"}, "run.zsh", false},
	{"bash --rcfile", "/bin/bash", []string{"--rcfile", "x", "run.sh"}, "run.sh", false},
	{"bash unknown long", "/bin/bash", []string{"--weird", "run.sh"}, "", false},
	{"node script", "/usr/bin/node", []string{"bot.js"}, "bot.js", false},
	{"node flags", "/usr/bin/node", []string{"--max-old-space-size=512", "--no-warnings", "bot.js"}, "bot.js", false},
	{"node -e", "/usr/bin/node", []string{"-e", "x"}, "", false},
	{"node --require", "/usr/bin/node", []string{"--require", "evil.js", "bot.js"}, "", false},
	{"node --require=", "/usr/bin/node", []string{"--require=evil.js", "bot.js"}, "", false},
	{"node -r", "/usr/bin/node", []string{"-r", "evil.js", "bot.js"}, "", false},
	{"node --import", "/usr/bin/node", []string{"--import=x", "bot.js"}, "", false},
	{"node valued option", "/usr/bin/node", []string{"--title", "bot.js", "evil.js"}, "", false},
	{"ruby script", "/usr/bin/ruby3.2", []string{"-w", "bot.rb"}, "bot.rb", false},
	{"ruby -e", "/usr/bin/ruby", []string{"-e", "x"}, "", false},
	{"ruby -r", "/usr/bin/ruby", []string{"-rnet/http", "bot.rb"}, "", false},
	{"ruby -C", "/usr/bin/ruby", []string{"-C", "/elsewhere", "bot.rb"}, "", false},
	{"ruby -I", "/usr/bin/ruby", []string{"-I", "lib", "bot.rb"}, "bot.rb", false},
	{"perl script", "/usr/bin/perl", []string{"-w", "bot.pl"}, "bot.pl", false},
	{"perl -e", "/usr/bin/perl", []string{"-e", "x"}, "", false},
	{"perl -E", "/usr/bin/perl", []string{"-wE", "x"}, "", false},
	{"perl -M", "/usr/bin/perl", []string{"-MEvil", "bot.pl"}, "", false},
	{"deno run", "/usr/bin/deno", []string{"run", "--allow-net", "-A", "bot.ts"}, "bot.ts", false},
	{"deno eval", "/usr/bin/deno", []string{"eval", "x"}, "", false},
	{"deno remote", "/usr/bin/deno", []string{"run", "https://x/bot.ts"}, "", false},
	{"deno --config", "/usr/bin/deno", []string{"run", "--config", "c.json", "bot.ts"}, "", false},
	{"bun run", "/usr/bin/bun", []string{"run", "./bot.ts"}, "./bot.ts", false},
	{"bun file", "/usr/bin/bun", []string{"bot.ts"}, "bot.ts", false},
	{"bun -e", "/usr/bin/bun", []string{"-e", "x"}, "", false},
	{"bun package script", "/usr/bin/bun", []string{"run", "start"}, "", false},
	{"bun --cwd", "/usr/bin/bun", []string{"--cwd", "/x", "bot.ts"}, "", false},
	{"fish script", "/usr/bin/fish", []string{"--no-config", "run.fish"}, "run.fish", false},
	{"fish -c", "/usr/bin/fish", []string{"-c", "tokentray token"}, "", false},
	{"fish --command=", "/usr/bin/fish", []string{"--command=tokentray token"}, "", false},
	{"fish -ic", "/usr/bin/fish", []string{"-ic", "tokentray token"}, "", false},
	{"fish -C", "/usr/bin/fish", []string{"-C", "tokentray token"}, "", false},
	{"fish -d value", "/usr/bin/fish", []string{"-d", "3", "run.fish"}, "run.fish", false},
	{"fish interactive", "/usr/bin/fish", []string{"-l"}, "", true},
	{"fish unknown", "/usr/bin/fish", []string{"--weird", "run.fish"}, "", false},
	{"tcsh script", "/usr/bin/tcsh", []string{"-f", "run.csh"}, "run.csh", false},
	{"tcsh -fc", "/usr/bin/tcsh", []string{"-fc", "tokentray token"}, "", false},
	{"csh -s", "/bin/csh", []string{"-s", "x"}, "", true},
	{"csh interactive", "/bin/csh", nil, "", true},
	{"nu script", "/usr/bin/nu", []string{"run.nu"}, "run.nu", false},
	{"nu --commands", "/usr/bin/nu", []string{"--commands", "tokentray token"}, "", false},
	{"nu -e", "/usr/bin/nu", []string{"-e", "tokentray token"}, "", false},
	{"nu --config", "/usr/bin/nu", []string{"--config", "evil.nu", "run.nu"}, "", false},
	{"nu interactive", "/usr/bin/nu", nil, "", true},
	{"elvish script", "/usr/bin/elvish", []string{"-norc", "run.elv"}, "run.elv", false},
	{"elvish -c", "/usr/bin/elvish", []string{"-c", "tokentray token"}, "", false},
	{"elvish -rc", "/usr/bin/elvish", []string{"-rc", "evil.elv", "run.elv"}, "", false},
	{"xonsh script", "/usr/bin/xonsh", []string{"--no-rc", "run.xsh"}, "run.xsh", false},
	{"xonsh -c", "/usr/bin/xonsh", []string{"-c", "tokentray token"}, "", false},
	{"xonsh -D", "/usr/bin/xonsh", []string{"-D", "X=1", "run.xsh"}, "run.xsh", false},
	{"xonsh --rc", "/usr/bin/xonsh", []string{"--rc", "evil.xsh", "run.xsh"}, "", false},
	{"xonsh interactive", "/usr/bin/xonsh", []string{"-i"}, "", true},
}

// TestEveryShellsInlineCodeIsLookedThrough: each shell's inline code is
// reported as "-c", which the walk from the CLI looks through, so a shell
// binary is never the app behind `fish -c 'tokentray token'`.
func TestEveryShellsInlineCodeIsLookedThrough(t *testing.T) {
	for _, tc := range []struct {
		exe  string
		args []string
	}{
		{"/bin/bash", []string{"-c", "x"}}, {"/usr/bin/fish", []string{"-c", "x"}},
		{"/usr/bin/fish", []string{"--command", "x"}}, {"/usr/bin/tcsh", []string{"-c", "x"}},
		{"/bin/csh", []string{"-c", "x"}}, {"/usr/bin/nu", []string{"-c", "x"}},
		{"/usr/bin/elvish", []string{"-c", "x"}}, {"/usr/bin/xonsh", []string{"-c", "x"}},
	} {
		f := familyOf(tc.exe)
		if !isShell(f) {
			t.Errorf("%s: family %q is not a shell", tc.exe, f)
		}
		if got := parseArgs(f, tc.args); got.inline != "-c" {
			t.Errorf("%s %q: %+v, want inline -c", tc.exe, tc.args, got)
		}
	}
	for _, name := range []string{"env", "timeout", "nohup", "nice", "ionice", "stdbuf", "setsid",
		"flock", "chrt", "taskset", "time", "xargs", "watch", "make"} {
		if !isWrapper(name) {
			t.Errorf("%s is not a command wrapper", name)
		}
	}
	for _, name := range []string{"sudo", "curl", "python3", "bash"} {
		if isWrapper(name) {
			t.Errorf("%s is a command wrapper", name)
		}
	}
}

func TestParseArgs(t *testing.T) {
	for _, tc := range argvCases {
		t.Run(tc.name, func(t *testing.T) {
			f := familyOf(tc.exe)
			if f == famNone {
				t.Fatalf("familyOf(%q) = none", tc.exe)
			}
			got := parseArgs(f, tc.args)
			if got.script != tc.script || got.stdin != tc.stdin {
				t.Fatalf("parseArgs(%s, %q) = %+v, want script %q stdin %v", f, tc.args, got, tc.script, tc.stdin)
			}
			if tc.script == "" && !tc.stdin && got.inline == "" {
				t.Fatalf("parseArgs(%s, %q) gives no reason", f, tc.args)
			}
		})
	}
}

func TestFamilyOf(t *testing.T) {
	for _, tc := range []struct {
		path string
		want family
	}{
		{"/usr/bin/python3.12", famPython},
		{"/usr/bin/curl", famNone},
		{"/usr/bin/pythonista", famNone},
		{"/bin/dash", famShell},
		{"/usr/bin/nodejs", famNode},
		{"/usr/local/bin/bun", famBun},
		{"/usr/bin/perl5.36.0", famPerl},
		{"/usr/bin/fish", famFish},
		{"/bin/tcsh", famCsh},
		{"/bin/csh", famCsh},
		{"/usr/bin/nu", famNu},
		{"/usr/bin/elvish", famElvish},
		{"/usr/bin/xonsh", famXonsh},
		{"/usr/bin/numpy", famNone},
	} {
		if got := familyOf(tc.path); got != tc.want {
			t.Errorf("familyOf(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"ld-linux-x86-64.so.2", true}, {"ld-musl-x86_64.so.1", true}, {"ld.so", true},
		{"ld-linux-aarch64.so.1", true}, {"ld", false}, {"gold", false}, {"libc.so.6", false},
	} {
		if got := loaderName.MatchString(tc.name); got != tc.want {
			t.Errorf("loaderName(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// FuzzParseArgs checks that a script, when one is named, is one of the
// arguments, and that code not pinned to a file always says why.
func FuzzParseArgs(f *testing.F) {
	for _, tc := range argvCases {
		f.Add(tc.exe, strings.Join(tc.args, "\x00"))
	}
	f.Fuzz(func(t *testing.T, exe, joined string) {
		fam := familyOf(exe)
		if fam == famNone {
			return
		}
		args := strings.Split(joined, "\x00")
		got := parseArgs(fam, args)
		switch {
		case got.script != "":
			if !slices.Contains(args, got.script) || got.stdin || got.inline != "" {
				t.Fatalf("parseArgs(%s, %q) = %+v", fam, args, got)
			}
		case !got.stdin && got.inline == "":
			t.Fatalf("parseArgs(%s, %q) = %+v: neither a script nor a reason", fam, args, got)
		}
	})
}

func TestKeysAreUnambiguous(t *testing.T) {
	a := ScriptKey(`/x" script "/y`, "", "/z", "00")
	b := ScriptKey("/x", "", `/y" sha256:00 script "/z`, "00")
	if a == b {
		t.Fatalf("two apps share the key %q", a)
	}
	if BinaryKey("/p", "") == BinaryKey("/p", "ab") {
		t.Fatal("a hashed and an unhashed binary share a key")
	}
}

func TestInjected(t *testing.T) {
	for _, tc := range []struct {
		f    family
		env  []string
		want string
	}{
		{famNone, []string{"HOME=/h", "LD_PRELOAD=/x.so"}, "LD_PRELOAD"},
		{famNone, []string{"LD_PRELOAD="}, ""},
		{famNone, []string{"LD_LIBRARY_PATH=/opt/lib", "PYTHONPATH=/p"}, ""},
		{famPython, []string{"LD_AUDIT=/a.so"}, "LD_AUDIT"},
		{famShell, []string{"BASH_ENV=/tmp/evil.sh"}, "BASH_ENV"},
		{famNone, []string{"BASH_ENV=/tmp/evil.sh"}, ""},
		{famNode, []string{"NODE_OPTIONS=--max-old-space-size=512"}, ""},
		{famNode, []string{"NODE_OPTIONS=--max-old-space-size=512 --require /tmp/evil.js"}, "NODE_OPTIONS"},
		{famNode, []string{"NODE_OPTIONS=--import=/tmp/evil.mjs"}, "NODE_OPTIONS"},
		{famPerl, []string{"PERL5OPT=-MEvil"}, "PERL5OPT"},
		{famPerl, []string{"PERL5OPT=-w"}, ""},
		{famRuby, []string{"RUBYOPT=-rEvil"}, "RUBYOPT"},
		{famRuby, []string{"RUBYOPT=-W0"}, ""},
	} {
		if got := injected(tc.f, tc.env); got != tc.want {
			t.Errorf("injected(%s, %q) = %q, want %q", tc.f, tc.env, got, tc.want)
		}
	}
}
