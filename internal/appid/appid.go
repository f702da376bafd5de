// Package appid tells who is asking on the agent's socket: which app (a
// binary, a script under an interpreter, an interactive terminal) is behind a
// peer, with a stable key to hang a grant on and a description for the prompt.
//
// # Security model
//
// The uid check of the socket stays the hard wall; this package only names
// the app so that a human can decide. It pins the peer with the kernel's
// record of the connection (SO_PEERCRED, and SO_PEERPIDFD where the kernel
// has it), reads /proc, and then checks that the pinned process is still
// alive, so a pid reused after an exit is caught rather than misnamed.
//
// What it can name:
//   - a binary: its path, plus the SHA-256 of its content unless root alone
//     can change it (root-owned, in folders only root can write), so a
//     changed user-writable binary is a different app while a system update
//     is not;
//   - an interpreter (python, node, bash/sh/zsh, fish, tcsh, nu, elvish,
//     xonsh, ruby, perl, deno, bun) running a script file: the interpreter as
//     above, plus the script's path (from argv, resolved against the working
//     folder) and its SHA-256;
//   - the tokentray CLI, recognised by device and inode of the executables
//     the caller names (never by name): the app is the first ancestor that
//     is not a shell running inline code, a command wrapper root alone can
//     change (env, timeout, nohup, xargs, make …) or the CLI; a shell or a
//     wrapper is never an app itself, since a grant to it would cover any
//     command it is given; interactive shells up to a terminal
//     that root's own program runs (a terminal emulator, sshd, tmux) make the
//     app "interactive terminal", while a script or a user's program driving
//     the pseudo-terminal is the app itself.
//
// What it refuses to name (Kind Unidentified, no key, "allow once" only):
// inline code (-c, -e, standard input), unreadable, deleted, replaced or
// memfd executables, programs run through the dynamic loader, options it does
// not understand, a start with code injected through the environment
// (LD_PRELOAD, LD_AUDIT, BASH_ENV, NODE_OPTIONS=--require …). It never turns
// "cannot read" into a name.
//
// What it cannot stop: a process of the same user can rewrite its own
// command line, change folder before connecting, be ptraced or injected
// into by another, or type into a terminal through root's programs
// (script(1), expect); such a process can pass for an app the user approved.
package appid

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// ErrExited is returned when the pinned process exited while it was being
// read, so what was read may belong to another process that reused its pid.
var ErrExited = errors.New("appid: peer process exited")

// Kind says what sort of app an App is.
type Kind int

// The kinds of app.
const (
	// Unidentified: no stable name; the request may only be allowed once.
	Unidentified Kind = iota
	// Binary: an executable, keyed by path (and content when user-writable).
	Binary
	// Script: an interpreter running a script file.
	Script
	// Terminal: the CLI typed in an interactive shell on a terminal.
	Terminal
)

// String returns the kind's lowercase name.
func (k Kind) String() string {
	switch k {
	case Binary:
		return "binary"
	case Script:
		return "script"
	case Terminal:
		return "terminal"
	default:
		return "unidentified"
	}
}

// TerminalKey is the key of every interactive terminal.
const TerminalKey = "terminal"

// Process is one process in a description: a parent in the chain, or the
// CLI an app went through.
type Process struct {
	PID  int
	Exe  string
	Args []string
}

// App is who is asking: a key for grants and what a prompt shows.
type App struct {
	Kind Kind
	// Key identifies the app across restarts; "" when Kind is Unidentified.
	Key string
	// Name is a short human name: "curl", "python3 bot.py", "interactive terminal".
	Name string
	// Exe is the executable's path (the interpreter's for a script).
	Exe string
	// ExeSHA256 is the hex SHA-256 of Exe's content; "" when keyed by path.
	ExeSHA256 string
	// Script is the absolute path of the script; "" unless Kind is Script.
	Script string
	// ScriptSHA256 is the hex SHA-256 of the script's content.
	ScriptSHA256 string
	// Args is the command line as /proc shows it (the process can change it).
	Args []string
	// Cwd is the working folder.
	Cwd string
	// PID is the app's process (an ancestor of the peer when Via is set).
	PID int
	// Via is the tokentray CLI process the request came through, if any.
	Via *Process
	// Parents are the app's ancestors, nearest first, for the prompt only:
	// best effort, not pinned.
	Parents []Process
	// Reason says why an app is Unidentified.
	Reason string
	// Weak reports that the peer was pinned with pidfd_open after the fact
	// (kernel without SO_PEERPIDFD), not from the kernel's record of the
	// connection.
	Weak bool

	// stamp is the peer's own executable and command line when it was read,
	// so Recheck can tell that it exec'd.
	stamp string
}

// Grantable reports whether a lasting grant may be given to a: only an app
// with a key; anything else is "allow once" only.
func (a App) Grantable() bool { return a.Kind != Unidentified && a.Key != "" }

// Describe returns a multi-line description of a for a prompt or a log.
func (a App) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "app: %s (%s)\n", a.Name, a.Kind)
	if a.Reason != "" {
		fmt.Fprintf(&b, "not identified: %s\n", a.Reason)
	}
	if a.Exe != "" {
		fmt.Fprintf(&b, "path: %s", a.Exe)
		if a.ExeSHA256 != "" {
			fmt.Fprintf(&b, " (sha256 %s)", a.ExeSHA256)
		}
		b.WriteString("\n")
	}
	if a.Script != "" {
		fmt.Fprintf(&b, "script: %s (sha256 %s)\n", a.Script, a.ScriptSHA256)
	}
	if len(a.Args) > 0 {
		fmt.Fprintf(&b, "command line: %s\n", QuoteArgs(a.Args))
	}
	if a.Cwd != "" {
		fmt.Fprintf(&b, "working folder: %s\n", a.Cwd)
	}
	if a.Via != nil {
		fmt.Fprintf(&b, "through the tokentray CLI: pid %d, %s\n", a.Via.PID, QuoteArgs(a.Via.Args))
	}
	for _, p := range a.Parents {
		fmt.Fprintf(&b, "parent: pid %d, %s\n", p.PID, QuoteArgs(p.Args))
	}
	return b.String()
}

// QuoteArgs joins args for display, quoting the ones that need it so that a
// space or a control character inside an argument cannot mislead.
func QuoteArgs(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsFunc(a, func(r rune) bool {
			return r <= ' ' || r == '"' || r == '\'' || r == '\\' || r == 0x7f || !strconv.IsPrint(r)
		}) {
			a = strconv.Quote(a)
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}

// exeKey is the key part for an executable: its path, plus its content hash
// when someone other than root could change it.
func exeKey(path, sha string) string {
	k := "exe " + strconv.Quote(path)
	if sha != "" {
		k += " sha256:" + sha
	}
	return k
}

// BinaryKey returns the grant key of a binary at path whose content hash is
// sha ("" for a binary keyed by path).
func BinaryKey(path, sha string) string { return exeKey(path, sha) }

// ScriptKey returns the grant key of a script at script with content hash
// scriptSHA run by the interpreter at exe (exeSHA as for BinaryKey).
func ScriptKey(exe, exeSHA, script, scriptSHA string) string {
	return exeKey(exe, exeSHA) + scriptKeyPart(script, scriptSHA)
}

// scriptKeyPart is the key part for a script.
func scriptKeyPart(script, sha string) string {
	return " script " + strconv.Quote(script) + " sha256:" + sha
}

// Config configures an Identifier.
type Config struct {
	// CLIExecutables are the paths of the tokentray CLI's executables (the
	// agent's own os.Executable, the small tokentray). A peer running one of
	// them, compared by device and inode at each request and never by name,
	// is looked through to the app that called it. Empty: no CLI.
	CLIExecutables []string
	// MaxHashBytes is the largest file hashed; a larger executable or script
	// is unidentified. Zero means 1 GiB.
	MaxHashBytes int64
}

// Identifier names the apps behind peers. It keeps a cache of file hashes
// keyed by device, inode, size and change times. It is safe for concurrent use.
type Identifier struct {
	cfg Config

	mu     sync.Mutex           // guards hashes
	hashes map[fileStamp]string // content hashes of files already read
}

// fileStamp names one version of a file: a write changes its ctime, which a
// process cannot set back.
type fileStamp struct {
	dev, ino         uint64
	size             int64
	mtimeNs, ctimeNs int64
}

// maxCachedHashes bounds the hash cache; it is emptied when full.
const maxCachedHashes = 512

// New returns an Identifier for cfg.
func New(cfg Config) *Identifier {
	if cfg.MaxHashBytes <= 0 {
		cfg.MaxHashBytes = 1 << 30
	}
	return &Identifier{cfg: cfg, hashes: map[fileStamp]string{}}
}

// unidentified returns an App that may only be allowed once.
func unidentified(name, reason string) App {
	return App{Kind: Unidentified, Name: name, Reason: reason}
}
