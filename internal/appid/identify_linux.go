package appid

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// multiCall are executables that act as the program argv[0] (or argv[1]) names.
var multiCall = map[string]bool{"busybox": true, "toybox": true}

// maxAncestors bounds the walk from the CLI to its caller.
const maxAncestors = 32

// procInfo is what /proc says about one process.
type procInfo struct {
	pid   int
	exe   string      // /proc/PID/exe as a path
	bad   string      // why exe cannot name an app; "" when it can
	st    unix.Stat_t // the running executable (fstat of /proc/PID/exe)
	args  []string
	cwd   string
	ppid  int
	ttyIn bool     // standard input is a terminal
	env   []string // the environment it started with (VAR=value)
}

// stamp is the process's executable and command line in one string.
func (pi procInfo) stamp() string {
	return fmt.Sprintf("%s\x00%d:%d\x00%s", pi.exe, pi.st.Dev, pi.st.Ino, strings.Join(pi.args, "\x00"))
}

// errGone means /proc no longer has the process.
var errGone = errors.New("process gone")

// readProc reads pid's executable, command line, folder and parent. Only a
// missing process is an error; an unusable executable is recorded in bad.
func readProc(pid int) (procInfo, error) {
	dir := "/proc/" + strconv.Itoa(pid)
	pi := procInfo{pid: pid}
	ppid, err := readPPID(pid)
	if err != nil {
		return pi, err
	}
	pi.ppid = ppid
	if b, err := os.ReadFile(dir + "/cmdline"); err == nil {
		b = bytes.TrimSuffix(b, []byte{0})
		if len(b) > 0 {
			pi.args = strings.Split(string(b), "\x00")
		}
	}
	pi.cwd, _ = os.Readlink(dir + "/cwd")
	if in, err := os.Readlink(dir + "/fd/0"); err == nil {
		pi.ttyIn = strings.HasPrefix(in, "/dev/pts/") || strings.HasPrefix(in, "/dev/tty")
	}
	if b, err := os.ReadFile(dir + "/environ"); err == nil {
		pi.env = strings.Split(string(bytes.TrimSuffix(b, []byte{0})), "\x00")
	}
	pi.exe, err = os.Readlink(dir + "/exe")
	if err != nil {
		pi.bad = "cannot read its executable"
		return pi, nil
	}
	if strings.HasPrefix(pi.exe, "/memfd:") {
		pi.bad = "runs from a memfd, not a file"
		return pi, nil
	}
	f, err := os.Open(dir + "/exe")
	if err != nil {
		pi.bad = "cannot open its executable"
		return pi, nil
	}
	defer f.Close()
	if err := unix.Fstat(int(f.Fd()), &pi.st); err != nil {
		pi.bad = "cannot stat its executable"
		return pi, nil
	}
	if pi.st.Nlink == 0 {
		pi.bad = "its executable was deleted"
		return pi, nil
	}
	var onDisk unix.Stat_t
	if err := unix.Stat(pi.exe, &onDisk); err != nil || onDisk.Dev != pi.st.Dev || onDisk.Ino != pi.st.Ino {
		pi.bad = "its executable was replaced or moved since it started"
		return pi, nil
	}
	if loaderName.MatchString(filepath.Base(pi.exe)) {
		pi.bad = "runs a program through the dynamic loader"
		return pi, nil
	}
	return pi, nil
}

// readPPID reads the parent pid from /proc/PID/stat. The command name in
// parentheses may hold anything, so the fields after the last ')' count.
func readPPID(pid int) (int, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("read /proc/%d: %w", pid, errGone)
	}
	i := bytes.LastIndexByte(b, ')')
	fields := strings.Fields(string(b[i+1:]))
	if i < 0 || len(fields) < 2 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return strconv.Atoi(fields[1])
}

// role is what a process is to the walk from the CLI to its caller.
type role int

const (
	roleApp         role = iota // an app (maybe unidentified): the walk ends here
	roleCLI                     // the tokentray CLI: look through
	roleEnv                     // env: look through
	roleShellInline             // a shell running -c: look through to who wrote the command
)

// Identify names the app behind p: for the tokentray CLI, the app that
// called it. It reads /proc and then checks p is still alive; ErrExited
// means what was read cannot be trusted.
func (id *Identifier) Identify(p *Peer) (App, error) {
	pi, err := readProc(p.PID)
	if err != nil {
		return unidentified("gone", "the process exited"), fmt.Errorf("identify %d: %w", p.PID, ErrExited)
	}
	app, r := id.classify(pi)
	if r == roleCLI {
		app = id.callerOf(pi)
	} else if r != roleApp {
		// A shell running -c or env is only looked through behind the CLI.
		app.Kind, app.Key = Unidentified, ""
		if app.Reason == "" {
			app.Reason = "runs no code of its own"
		}
	}
	if !p.Alive() {
		return unidentified("gone", "the process exited"), fmt.Errorf("identify %d: %w", p.PID, ErrExited)
	}
	app.stamp = pi.stamp()
	app.Weak = p.Weak
	app.Parents = parentsOf(app.PID, 4)
	return app, nil
}

// Recheck returns prev while p still runs the executable and command line
// it had when prev was made, else names p again: a process may exec after
// connecting, and each request on a keep-alive connection must be checked.
func (id *Identifier) Recheck(p *Peer, prev App) (App, error) {
	pi, err := readProc(p.PID)
	if err == nil && prev.stamp != "" && pi.stamp() == prev.stamp && p.Alive() {
		return prev, nil
	}
	return id.Identify(p)
}

// classify names one process and says what it is to the CLI walk.
func (id *Identifier) classify(pi procInfo) (App, role) {
	name := filepath.Base(pi.exe)
	if pi.exe == "" {
		name = "unknown"
	}
	base := App{Name: name, Exe: pi.exe, Args: pi.args, Cwd: pi.cwd, PID: pi.pid}
	fail := func(reason string) App {
		a := base
		a.Kind, a.Reason = Unidentified, reason
		return a
	}
	if pi.bad != "" {
		return fail(pi.bad), roleApp
	}
	if id.isCLI(pi) {
		if v := injected(famNone, pi.env); v != "" {
			return fail("the tokentray CLI started with " + v + " set, which loads other code"), roleApp
		}
		return base, roleCLI
	}
	if isWrapper(name) {
		return wrapper(base, name, rootOnly(pi.exe, &pi.st))
	}
	exeSHA, err := id.exeHash(pi)
	if err != nil {
		return fail(err.Error()), roleApp
	}
	base.ExeSHA256 = exeSHA
	fam, args, applet := familyOf(pi.exe), pi.args, ""
	if len(args) > 0 {
		args = args[1:]
	}
	if multiCall[name] {
		// busybox sh x.sh, or sh → busybox: the applet decides.
		if len(pi.args) == 0 {
			return fail("a multi-call binary without a command line"), roleApp
		}
		applet = filepath.Base(pi.args[0])
		if applet == name && len(args) > 0 {
			applet, args = args[0], args[1:]
		}
		if applet == name || applet == "" {
			return fail("a multi-call binary without an applet"), roleApp
		}
		if isWrapper(applet) {
			return wrapper(base, name+" "+applet, exeSHA == "")
		}
		fam = familyOf(applet)
	}
	exePart := exeKey(pi.exe, exeSHA)
	if applet != "" {
		exePart += " applet " + strconv.Quote(applet)
		base.Name = name + " " + applet
	}
	if fam == famNone {
		if v := injected(famNone, pi.env); v != "" {
			return fail("started with " + v + " set, which loads other code"), roleApp
		}
		base.Kind, base.Key = Binary, exePart
		return base, roleApp
	}
	inv := parseArgs(fam, args)
	if v := injected(fam, pi.env); v != "" {
		return fail("started with " + v + " set, which loads other code"), roleApp
	}
	if fam == famPython && inv.script != "" && xonshScript(inv.script) {
		// xonsh is a Python program: python running it is the xonsh shell.
		fam, inv = famXonsh, parseArgs(famXonsh, inv.rest)
		if inv.script != "" {
			return fail("runs a xonsh script, which runs under python through xonsh"), roleApp
		}
	}
	switch {
	case inv.inline != "":
		if isShell(fam) && inv.inline == "-c" {
			return fail("runs inline code (-c)"), roleShellInline
		}
		return fail("runs code not pinned to a file (" + inv.inline + ")"), roleApp
	case inv.stdin:
		if isShell(fam) && pi.ttyIn {
			a := base
			a.Kind, a.Key, a.Name = Terminal, TerminalKey, "interactive terminal"
			return a, roleApp
		}
		return fail("reads its code from standard input"), roleApp
	}
	script := inv.script
	if !filepath.IsAbs(script) {
		if pi.cwd == "" {
			return fail("cannot read its working folder"), roleApp
		}
		script = filepath.Join(pi.cwd, script)
	}
	real, err := filepath.EvalSymlinks(script)
	if err != nil {
		return fail("cannot find its script " + script), roleApp
	}
	sha, err := id.fileHash(real)
	if err != nil {
		return fail(err.Error()), roleApp
	}
	a := base
	a.Kind, a.Script, a.ScriptSHA256 = Script, real, sha
	a.Key = exePart + scriptKeyPart(real, sha)
	a.Name = base.Name + " " + filepath.Base(real)
	return a, roleApp
}

// wrapper classifies a command wrapper (env, timeout, xargs, make …): it
// runs no code of its own, so it is looked through behind the CLI, when root
// alone can change it. One the user can change is not looked through (it
// could do anything) and is never an app either: a grant to it would cover
// any command it runs.
func wrapper(base App, name string, system bool) (App, role) {
	base.Name = name
	if system {
		return base, roleEnv
	}
	base.Kind, base.Reason = Unidentified, name+" runs whatever command it is given, and this one is not root's alone"
	return base, roleApp
}

// xonshScript reports whether a python script is the xonsh shell.
func xonshScript(script string) bool {
	return familyOf(script) == famXonsh
}

// callerOf walks up from the CLI process cli past shells running -c, env
// and the CLI itself to the app that called it. Interactive shells on a
// terminal make it "interactive terminal" only when the first other ancestor
// is a program root alone can change (a terminal emulator, sshd, tmux,
// login); a script or a user's program driving a pseudo-terminal is the app
// itself. Each parent is pinned with a pidfd before it is read, and the
// child is checked to still be its child.
func (id *Identifier) callerOf(cli procInfo) App {
	via := &Process{PID: cli.pid, Exe: cli.exe, Args: cli.args}
	fail := func(reason string) App {
		a := unidentified("tokentray CLI", reason)
		a.Via = via
		return a
	}
	var pinned []int
	defer func() {
		for _, fd := range pinned {
			unix.Close(fd)
		}
	}()
	cur := cli
	var terminal *App // the nearest interactive shell passed, if any
	for range maxAncestors {
		if cur.ppid <= 1 {
			return fail("no calling app: started by init")
		}
		fd, err := unix.PidfdOpen(cur.ppid, 0)
		if err != nil {
			return fail("its calling process exited")
		}
		pinned = append(pinned, fd)
		if again, err := readPPID(cur.pid); err != nil || again != cur.ppid {
			return fail("its calling process exited")
		}
		pi, err := readProc(cur.ppid)
		if err != nil {
			return fail("its calling process exited")
		}
		app, r := id.classify(pi)
		for _, fd := range pinned {
			if !pidfdAlive(fd) {
				return fail("a calling process exited while it was read")
			}
		}
		cur = pi
		switch {
		case r != roleApp:
			continue
		case app.Kind == Terminal:
			// An interactive shell: what runs its terminal decides.
			if terminal == nil {
				terminal = &app
			}
			continue
		case terminal != nil && app.Kind == Binary && app.ExeSHA256 == "":
			// A terminal emulator, sshd, tmux, login: root's own program.
			app = *terminal
		case terminal != nil:
			// A script or a program of the user's drives the terminal
			// (pty.spawn, a pty library): that is the app.
		}
		app.Via = via
		return app
	}
	return fail("too many calling processes")
}

// isCLI reports whether pi runs one of the configured CLI executables.
func (id *Identifier) isCLI(pi procInfo) bool {
	for _, path := range id.cfg.CLIExecutables {
		var st unix.Stat_t
		if unix.Stat(path, &st) == nil && st.Dev == pi.st.Dev && st.Ino == pi.st.Ino {
			return true
		}
	}
	return false
}

// exeHash hashes the running executable through /proc/PID/exe, which is the
// file executed even if the path now names another; "" when root alone can
// change the file at its path.
func (id *Identifier) exeHash(pi procInfo) (string, error) {
	if rootOnly(pi.exe, &pi.st) {
		return "", nil
	}
	f, err := os.Open("/proc/" + strconv.Itoa(pi.pid) + "/exe")
	if err != nil {
		return "", errors.New("cannot read its executable")
	}
	defer f.Close()
	return id.hashOpen(f, pi.st.Dev, pi.st.Ino)
}

// fileHash hashes the regular file at path.
func (id *Identifier) fileHash(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot read its script %s", path)
	}
	defer f.Close()
	return id.hashOpen(f, 0, 0)
}

// hashOpen hashes f, checking it is a regular file (and, when ino is not
// zero, that file), and caches the result by the file's stamp.
func (id *Identifier) hashOpen(f *os.File, dev, ino uint64) (string, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return "", fmt.Errorf("cannot stat %s", f.Name())
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return "", fmt.Errorf("%s is not a regular file", f.Name())
	}
	if ino != 0 && (st.Dev != dev || st.Ino != ino) {
		return "", errors.New("its executable changed while it was read")
	}
	if st.Size > id.cfg.MaxHashBytes {
		return "", fmt.Errorf("%s is too large to hash", f.Name())
	}
	key := fileStamp{dev: st.Dev, ino: st.Ino, size: st.Size, mtimeNs: st.Mtim.Nano(), ctimeNs: st.Ctim.Nano()}
	id.mu.Lock()
	sum, ok := id.hashes[key]
	id.mu.Unlock()
	if ok {
		return sum, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(f, id.cfg.MaxHashBytes+1)); err != nil {
		return "", fmt.Errorf("cannot read %s", f.Name())
	}
	var after unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &after); err != nil || after.Ctim != st.Ctim || after.Size != st.Size {
		return "", fmt.Errorf("%s changed while it was read", f.Name())
	}
	sum = hex.EncodeToString(h.Sum(nil))
	id.mu.Lock()
	if len(id.hashes) >= maxCachedHashes {
		clear(id.hashes)
	}
	id.hashes[key] = sum
	id.mu.Unlock()
	return sum, nil
}

// rootOnly reports whether root alone can change the file at path: the
// file and every folder above it belong to root and are writable by no group
// and no one else.
func rootOnly(path string, st *unix.Stat_t) bool {
	if st.Uid != 0 || st.Mode&0o022 != 0 {
		return false
	}
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		var d unix.Stat_t
		if unix.Lstat(dir, &d) != nil || d.Mode&unix.S_IFMT != unix.S_IFDIR || d.Uid != 0 || d.Mode&0o022 != 0 {
			return false
		}
		if dir == "/" {
			return true
		}
	}
}

// parentsOf lists up to n ancestors of pid for a description, nearest first.
func parentsOf(pid, n int) []Process {
	var out []Process
	for len(out) < n && pid > 1 {
		ppid, err := readPPID(pid)
		if err != nil || ppid < 1 {
			break
		}
		dir := "/proc/" + strconv.Itoa(ppid)
		exe, _ := os.Readlink(dir + "/exe")
		var args []string
		if b, err := os.ReadFile(dir + "/cmdline"); err == nil && len(b) > 0 {
			args = strings.Split(string(bytes.TrimSuffix(b, []byte{0})), "\x00")
		}
		out = append(out, Process{PID: ppid, Exe: exe, Args: args})
		pid = ppid
	}
	return out
}
