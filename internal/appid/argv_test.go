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
