package appid

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// family is an interpreter family: how its command line names the code it runs.
type family string

const (
	famNone   family = ""
	famPython family = "python"
	famNode   family = "node"
	famShell  family = "shell"
	famRuby   family = "ruby"
	famPerl   family = "perl"
	famDeno   family = "deno"
	famBun    family = "bun"
	famFish   family = "fish"
	famCsh    family = "csh"
	famNu     family = "nu"
	famElvish family = "elvish"
	famXonsh  family = "xonsh"
)

// isShell reports whether f is a command shell: one whose inline code (-c)
// is looked through behind the CLI and whose interactive use on a terminal
// is the "interactive terminal". A shell binary is never an app of its own:
// a grant to it would cover any command it is given.
func isShell(f family) bool {
	switch f {
	case famShell, famFish, famCsh, famNu, famElvish, famXonsh:
		return true
	}
	return false
}

// interpreterName matches the executables' base names: python3.12, node,
// bash, fish, ruby3.2, perl5.36 … xonsh is a Python program: as a script
// under python it is recognised by the script's name (xonshScript).
var interpreterName = regexp.MustCompile(`^(python|pypy|node|nodejs|bash|sh|dash|zsh|ksh|mksh|fish|tcsh|csh|nu|elvish|xonsh|ruby|perl|deno|bun)[0-9.]*$`)

// wrappers are commands that run another command they are given (env,
// timeout, nohup, xargs …): like a shell running -c they run no code of
// their own, so behind the CLI they are looked through to whoever gave the
// command, and they are never an app: a grant to one would cover anything
// it runs. make is one too: it runs the recipes of whatever Makefile it
// finds, so the app is whoever chose to run make there (an interactive
// terminal, or the script that called it), never make itself.
var wrappers = map[string]bool{
	"env": true, "timeout": true, "nohup": true, "nice": true, "ionice": true,
	"stdbuf": true, "setsid": true, "flock": true, "chrt": true, "taskset": true,
	"time": true, "xargs": true, "watch": true, "make": true, "gmake": true,
}

// isWrapper reports whether the executable (or applet) name is a command wrapper.
func isWrapper(name string) bool { return wrappers[name] }

// loaderName matches the dynamic loader, which runs any file given as its
// argument: ld-linux-x86-64.so.2, ld-musl-x86_64.so.1, ld.so.
var loaderName = regexp.MustCompile(`^ld(-linux[^/]*|-musl[^/]*)?\.so(\.[0-9]+)*$`)

// familyOf returns the interpreter family of the executable at path.
func familyOf(path string) family {
	m := interpreterName.FindStringSubmatch(filepath.Base(path))
	if m == nil {
		return famNone
	}
	switch m[1] {
	case "python", "pypy":
		return famPython
	case "node", "nodejs":
		return famNode
	case "ruby":
		return famRuby
	case "perl":
		return famPerl
	case "deno":
		return famDeno
	case "bun":
		return famBun
	case "fish":
		return famFish
	case "tcsh", "csh":
		return famCsh
	case "nu":
		return famNu
	case "elvish":
		return famElvish
	case "xonsh":
		return famXonsh
	default:
		return famShell
	}
}

// invocation is what an interpreter's command line says it runs.
type invocation struct {
	script string   // the script argument as given (maybe relative); "" unless pinned to a file
	rest   []string // the arguments after the script
	stdin  bool     // reads its code from standard input (or is interactive)
	inline string   // why the code is not one file: "-c", "-e", "--require", an unknown option …
}

func inline(why string) invocation { return invocation{inline: why} }

// parseArgs reads an interpreter's arguments (argv without argv[0]). Options
// it does not know make the code unpinned rather than guessed at: an option
// that takes a value could otherwise pass off its value as the script.
func parseArgs(f family, args []string) invocation {
	inv := parseFamily(f, args)
	if inv.script == "" && !inv.stdin && inv.inline == "" {
		return inline("an empty script name")
	}
	return inv
}

func parseFamily(f family, args []string) invocation {
	switch f {
	case famPython:
		return parsePython(args)
	case famNode:
		return parseNode(args)
	case famShell:
		return parseShell(args)
	case famRuby:
		return parseShortFlags(args, "e", "rCx", "I", "acdlnpsvwWyU0123456789")
	case famPerl:
		return parseShortFlags(args, "eE", "mMdx", "I", "acfilnpsStTuUvwWX0123456789")
	case famDeno:
		return parseDeno(args)
	case famBun:
		return parseBun(args)
	case famFish, famCsh, famNu, famElvish, famXonsh:
		return parseOtherShell(shellSyntaxes[f], args)
	}
	return inline("not an interpreter")
}

// scriptAt returns args[i] as the script, or standard input when there is none.
func scriptAt(args []string, i int) invocation {
	if i >= len(args) || args[i] == "-" {
		return invocation{stdin: true}
	}
	return invocation{script: args[i], rest: args[i+1:]}
}

// endOfOptions handles "--" (the script follows) and "-" (standard input).
func endOfOptions(args []string, i int) (invocation, bool) {
	switch args[i] {
	case "--":
		return scriptAt(args, i+1), true
	case "-":
		return invocation{stdin: true}, true
	}
	return invocation{}, false
}

func parsePython(args []string) invocation {
	for i := 0; i < len(args); i++ {
		if inv, ok := endOfOptions(args, i); ok {
			return inv
		}
		a := args[i]
		switch {
		case a == "--check-hash-based-pycs":
			i++
			continue
		case strings.HasPrefix(a, "--"):
			return inline("option " + a)
		case strings.HasPrefix(a, "-"):
		flags:
			for j := 1; j < len(a); j++ {
				switch c := a[j]; {
				case c == 'c':
					return inline("-c")
				case c == 'm':
					return inline("-m (a module, not a file)")
				case c == 'i':
					return inline("-i (interactive)")
				case c == 'W' || c == 'X':
					if j == len(a)-1 {
						i++
					}
					break flags
				case strings.IndexByte("bBdEhIOPqRsSuvVx", c) < 0:
					return inline("option " + a)
				}
			}
		default:
			return scriptAt(args, i)
		}
	}
	return invocation{stdin: true}
}

func parseShell(args []string) invocation {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--" || a == "-":
			return scriptAt(args, i+1)
		case a == "--rcfile" || a == "--init-file":
			i++
		case strings.HasPrefix(a, "--"):
			switch a {
			case "--norc", "--noprofile", "--posix", "--login", "--noediting",
				"--restricted", "--verbose", "--debug", "--pretty-print":
			default:
				return inline("option " + a)
			}
		case strings.HasPrefix(a, "-") || strings.HasPrefix(a, "+"):
			for _, c := range a[1:] {
				switch c {
				case 'c':
					return inline("-c")
				case 's':
					return invocation{stdin: true}
				case 'o', 'O':
					i++
				}
			}
		default:
			return scriptAt(args, i)
		}
	}
	return invocation{stdin: true}
}

// shellSyntax is how a shell other than the sh family reads its options.
type shellSyntax struct {
	code     []string // options that run inline code (-c, --command …)
	stdin    []string // options that read the code from standard input
	plain    []string // options without a value
	value    []string // options that take a value that is not code
	clusters bool     // single-letter options may be run together (-ic)
}

var shellSyntaxes = map[family]shellSyntax{
	famFish: {
		code: []string{"-c", "--command", "-C", "--init-command"},
		plain: []string{"-i", "--interactive", "-l", "--login", "-n", "--no-execute", "-N", "--no-config",
			"-P", "--private", "--print-rusage-self", "-v", "--version", "-h", "--help"},
		value:    []string{"-d", "--debug", "-o", "--debug-output", "-f", "--features", "--profile", "--profile-startup"},
		clusters: true,
	},
	famCsh: {
		code:     []string{"-c"},
		stdin:    []string{"-s", "-t"},
		plain:    []string{"-d", "-e", "-f", "-F", "-i", "-l", "-m", "-n", "-q", "-v", "-V", "-x", "-X"},
		clusters: true,
	},
	famNu: {
		code: []string{"-c", "--commands", "-e", "--execute"},
		plain: []string{"-i", "--interactive", "-l", "--login", "-n", "--no-config-file", "--no-std-lib",
			"--no-history", "--stdin", "-h", "--help", "-v", "--version"},
		value: []string{"-t", "--threads", "--log-level", "--log-target", "-m", "--table-mode", "--error-style"},
	},
	famElvish: {
		code:  []string{"-c", "--c"},
		plain: []string{"-norc", "--norc", "-compileonly", "--compileonly", "-json", "--json", "-help", "--help", "-version", "--version", "-buildinfo", "--buildinfo"},
		value: []string{"-log", "--log", "-deprecation-level", "--deprecation-level"},
	},
	famXonsh: {
		code: []string{"-c"},
		plain: []string{"-i", "--interactive", "-l", "--login", "--no-rc", "--no-script-cache", "--cache-everything",
			"--timings", "-V", "--version", "-h", "--help"},
		value:    []string{"-D", "--shell-type", "--shell", "-st"},
		clusters: true,
	},
}

// parseOtherShell reads the command line of a shell described by syn. Its
// inline code is reported as "-c", whatever the option's name, so that it
// is looked through as sh -c is.
func parseOtherShell(syn shellSyntax, args []string) invocation {
	for i := 0; i < len(args); i++ {
		if inv, ok := endOfOptions(args, i); ok {
			return inv
		}
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return scriptAt(args, i)
		}
		name, _, valued := strings.Cut(a, "=")
		switch {
		case slices.Contains(syn.code, name):
			return inline("-c")
		case slices.Contains(syn.stdin, a):
			return invocation{stdin: true}
		case slices.Contains(syn.plain, a):
			continue
		case slices.Contains(syn.value, name):
			if !valued {
				i++
			}
			continue
		case !syn.clusters || strings.HasPrefix(a, "--") || valued:
			return inline("option " + a)
		}
	flags:
		for j := 1; j < len(a); j++ {
			o := "-" + a[j:j+1]
			switch {
			case slices.Contains(syn.code, o):
				return inline("-c")
			case slices.Contains(syn.stdin, o):
				return invocation{stdin: true}
			case slices.Contains(syn.plain, o):
			case slices.Contains(syn.value, o):
				if j == len(a)-1 {
					i++
				}
				break flags
			default:
				return inline("option " + a)
			}
		}
	}
	return invocation{stdin: true}
}

// parseShortFlags reads a Ruby- or Perl-style command line: single-letter
// flags, some of them inline code (code), some loading other code or moving
// the working folder (extra), some taking a value (value), the rest plain
// (plain).
func parseShortFlags(args []string, code, extra, value, plain string) invocation {
	for i := 0; i < len(args); i++ {
		if inv, ok := endOfOptions(args, i); ok {
			return inv
		}
		a := args[i]
		switch {
		case strings.HasPrefix(a, "--"):
			if strings.Contains(a, "=") && (strings.HasPrefix(a, "--disable") || strings.HasPrefix(a, "--enable")) {
				continue
			}
			return inline("option " + a)
		case strings.HasPrefix(a, "-"):
		flags:
			for j := 1; j < len(a); j++ {
				c := a[j]
				switch {
				case strings.IndexByte(code, c) >= 0:
					return inline("-" + string(c))
				case strings.IndexByte(extra, c) >= 0:
					return inline("option -" + string(c))
				case strings.IndexByte(value, c) >= 0:
					if j == len(a)-1 {
						i++
					}
					break flags
				case c >= '0' && c <= '9' || c == 'l' || c == 'i':
					// -0777, -l0, -i.bak: the rest of the argument is the value.
					if strings.IndexByte(plain, c) < 0 {
						return inline("option " + a)
					}
					break flags
				case strings.IndexByte(plain, c) < 0:
					return inline("option " + a)
				}
			}
		default:
			return scriptAt(args, i)
		}
	}
	return invocation{stdin: true}
}

// nodeCode are node options that run code that is not the script.
var nodeCode = map[string]bool{
	"-e": true, "--eval": true, "-p": true, "--print": true, "-pe": true,
	"-i": true, "--interactive": true, "-r": true, "--require": true,
	"--import": true, "--loader": true, "--experimental-loader": true,
	"--env-file": true, "--env-file-if-exists": true,
}

// nodeFlags are node options without a value.
var nodeFlags = map[string]bool{
	"--inspect": true, "--inspect-brk": true, "--no-warnings": true,
	"--trace-warnings": true, "--enable-source-maps": true, "--no-deprecation": true,
	"--trace-deprecation": true, "--trace-uncaught": true, "--expose-gc": true,
	"--abort-on-uncaught-exception": true, "--preserve-symlinks": true,
	"--preserve-symlinks-main": true, "--experimental-vm-modules": true,
	"--no-experimental-fetch": true, "--frozen-intrinsics": true,
}

func parseNode(args []string) invocation {
	for i := 0; i < len(args); i++ {
		if inv, ok := endOfOptions(args, i); ok {
			return inv
		}
		a := args[i]
		name, _, _ := strings.Cut(a, "=")
		switch {
		case nodeCode[name]:
			return inline(name)
		case strings.HasPrefix(a, "--") && strings.Contains(a, "="):
		case nodeFlags[a]:
		case strings.HasPrefix(a, "-"):
			return inline("option " + a)
		default:
			return scriptAt(args, i)
		}
	}
	return invocation{stdin: true}
}

// denoCode are deno run options that load code or settings from elsewhere.
var denoCode = map[string]bool{
	"--config": true, "-c": true, "--import-map": true, "--preload": true,
	"--env-file": true, "--ext": true, "--location": true,
}

func parseDeno(args []string) invocation {
	if len(args) == 0 {
		return invocation{stdin: true}
	}
	switch args[0] {
	case "run":
		args = args[1:]
	case "eval", "repl":
		return inline("deno " + args[0])
	default:
		if strings.HasPrefix(args[0], "-") || !strings.ContainsAny(args[0], "./") {
			return inline("deno " + args[0])
		}
	}
	for i, a := range args {
		name, _, _ := strings.Cut(a, "=")
		switch {
		case denoCode[name]:
			return inline("option " + name)
		case strings.HasPrefix(a, "--") || a == "-A" || a == "-q" || a == "-r":
		case a == "-":
			return invocation{stdin: true}
		case strings.HasPrefix(a, "-"):
			return inline("option " + a)
		default:
			if strings.Contains(a, "://") {
				return inline("remote code " + a)
			}
			return scriptAt(args, i)
		}
	}
	return invocation{stdin: true}
}

// bunCode are bun options that run other code, change folder or read settings.
var bunCode = map[string]bool{
	"-e": true, "--eval": true, "-p": true, "--print": true, "-r": true,
	"--preload": true, "--require": true, "--cwd": true, "-c": true,
	"--config": true, "--env-file": true,
}

func parseBun(args []string) invocation {
	if len(args) > 0 && args[0] == "run" {
		args = args[1:]
	}
	for i, a := range args {
		name, _, _ := strings.Cut(a, "=")
		switch {
		case bunCode[name]:
			return inline(name)
		case a == "-":
			return invocation{stdin: true}
		case strings.HasPrefix(a, "--"):
		case strings.HasPrefix(a, "-"):
			return inline("option " + a)
		default:
			if !strings.ContainsAny(a, "./") {
				return inline("package script " + a)
			}
			return scriptAt(args, i)
		}
	}
	return invocation{stdin: true}
}

// injected returns the name of a variable in env (VAR=value entries) that
// makes a program of family f load code besides its own, or "". An app
// started so is not the app the user approved, so it is not named.
// LD_LIBRARY_PATH and PYTHONPATH are left alone: too common to refuse, and
// they only change where libraries are looked up.
func injected(f family, env []string) string {
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		if value == "" {
			continue
		}
		switch name {
		case "LD_PRELOAD", "LD_AUDIT":
			return name
		}
		switch {
		case f == famShell && name == "BASH_ENV",
			f == famPerl && (name == "PERL5DB" || name == "PERL5OPT" && strings.ContainsAny(value, "MmdeE")),
			f == famRuby && name == "RUBYOPT" && strings.Contains(value, "-r"),
			f == famNode && name == "NODE_OPTIONS" && nodeOptionsLoadCode(value),
			f == famPython && (name == "PYTHONINSPECT"):
			return name
		}
	}
	return ""
}

// nodeOptionsLoadCode reports whether NODE_OPTIONS holds an option that
// runs other code.
func nodeOptionsLoadCode(v string) bool {
	for _, o := range strings.Fields(v) {
		name, _, _ := strings.Cut(o, "=")
		if nodeCode[name] {
			return true
		}
	}
	return false
}
