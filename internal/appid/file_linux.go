package appid

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// IdentifyFile names the app the file at path is when it runs: an
// executable ELF binary, or a script under the interpreter its #! line names
// (through env, looked up on the agent's own PATH). It is for a proposal
// that a human confirms (`tokentray approve PATH|SCRIPT`): the key matches
// what Identify gives the running program, unless the script is started by
// another interpreter, or by a wrapper (a pyenv shim) that Identify looks
// through and this does not. A file no running app would match is refused
// with why: a file that is neither (a script without #!, which runs as
// "python3 bot.py"), a shell, interpreter or command wrapper (a grant to it
// would cover any command), a multi-call binary, the CLI, the loader.
func (id *Identifier) IdentifyFile(path string) (App, error) {
	app, _, err := id.identifyFile(path)
	return app, err
}

// IdentifyProposal is IdentifyFile for a proposal made by a process whose
// environment is env (VAR=value entries; nil when it could not be read): a
// script whose #! runs env is refused when the proposer's PATH would find
// another interpreter than the agent's, since the agent confirms the
// proposal with its own PATH and the script runs with the proposer's.
func (id *Identifier) IdentifyProposal(path string, env []string) (App, error) {
	app, envName, err := id.identifyFile(path)
	if err != nil || envName == "" {
		return app, err
	}
	pathVar, ok := "", false
	for _, kv := range env {
		if v, found := strings.CutPrefix(kv, "PATH="); found {
			pathVar, ok = v, true
		}
	}
	if !ok {
		return App{}, fmt.Errorf("appid: %s runs %q through env, and the PATH it would run with is unknown: "+
			"write the interpreter's full path on its #! line, or run it once and answer Always when the tray asks", app.Script, envName)
	}
	theirs, err := lookPathIn(envName, pathVar)
	if err == nil {
		theirs, err = filepath.EvalSymlinks(theirs)
	}
	if err != nil || theirs != app.Exe {
		found := "no " + envName
		if err == nil {
			found = theirs
		}
		return App{}, fmt.Errorf("appid: %s runs %q through env, which your PATH finds as %s but the agent's PATH as %s, "+
			"so a grant confirmed for it would not match the running script: write the interpreter's full path on its #! line, "+
			"or run it once and answer Always when the tray asks", app.Script, envName, found, app.Exe)
	}
	return app, nil
}

// identifyFile is IdentifyFile; envName is the program a #! line runs
// through env, "" when it names the interpreter's path.
func (id *Identifier) identifyFile(path string) (App, string, error) {
	if !filepath.IsAbs(path) {
		return App{}, "", fmt.Errorf("appid: %s: not an absolute path", path)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return App{}, "", fmt.Errorf("appid: %w", err)
	}
	head, err := readHead(real)
	if err != nil {
		return App{}, "", err
	}
	if !bytes.HasPrefix(head, []byte("#!")) {
		if err := id.checkBinary(real, head); err != nil {
			return App{}, "", err
		}
		sha, err := id.pathHash(real)
		if err != nil {
			return App{}, "", err
		}
		return App{Kind: Binary, Key: exeKey(real, sha), Name: filepath.Base(real), Exe: real, ExeSHA256: sha}, "", nil
	}
	interp, envName, err := shebangInterpreter(head)
	if err != nil {
		return App{}, "", fmt.Errorf("appid: %s: %w", real, err)
	}
	if familyOf(interp) == famNone {
		return App{}, "", fmt.Errorf("appid: %s: %s is not an interpreter it knows", real, interp)
	}
	if h, err := readHead(interp); err == nil && bytes.HasPrefix(h, []byte("#!")) {
		return App{}, "", fmt.Errorf("appid: %s: its interpreter %s is itself a script, run by another interpreter, "+
			"so the running program is not what the #! line names: it can only be allowed once, when the tray asks", real, interp)
	}
	exeSHA, err := id.pathHash(interp)
	if err != nil {
		return App{}, "", err
	}
	sha, err := id.fileHash(real)
	if err != nil {
		return App{}, "", fmt.Errorf("appid: %s", err)
	}
	return App{Kind: Script, Key: ScriptKey(interp, exeSHA, real, sha), Name: filepath.Base(interp) + " " + filepath.Base(real),
		Exe: interp, ExeSHA256: exeSHA, Script: real, ScriptSHA256: sha}, envName, nil
}

// checkBinary refuses a file without #! that is not a program a grant by
// path can name: not an executable ELF file, or one that runs whatever it
// is given.
func (id *Identifier) checkBinary(real string, head []byte) error {
	var st unix.Stat_t
	if err := unix.Stat(real, &st); err != nil {
		return fmt.Errorf("appid: stat %s: %w", real, err)
	}
	name := filepath.Base(real)
	switch {
	case !bytes.HasPrefix(head, []byte("\x7fELF")) || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Mode&0o111 == 0:
		return fmt.Errorf("appid: %s is neither an executable program nor a script with a #! line naming its interpreter, "+
			"so no running app would match a grant for it (a script without #! runs as interpreter + script, python3 %s): "+
			"run it once as you always do and answer Always when the tray asks", real, name)
	case loaderName.MatchString(name):
		return fmt.Errorf("appid: %s is the dynamic loader, which runs any program it is given", real)
	case isWrapper(name):
		return fmt.Errorf("appid: %s runs whatever command it is given, so a grant to it would cover any program: "+
			"propose the script or program it runs instead", real)
	case familyOf(real) != famNone:
		return fmt.Errorf("appid: %s is an interpreter or a shell, so a grant to it would cover any code it is given: "+
			"propose the script it runs instead (%s SCRIPT is named by the script)", real, name)
	case multiCall[name]:
		return fmt.Errorf("appid: %s is a multi-call binary, named by the applet it runs: it cannot be proposed by path", real)
	case id.isCLI(procInfo{st: st}):
		return fmt.Errorf("appid: %s is the tokentray CLI, which is looked through to the program that runs it: "+
			"propose that program or script instead", real)
	}
	return nil
}

// readHead reads the first line (at most 256 bytes) of the file at path.
func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("appid: %w", err)
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(f, 256).ReadSlice('\n')
	if err != nil && !errors.Is(err, bufio.ErrBufferFull) && len(line) == 0 {
		return nil, nil // empty file: not a script
	}
	return line, nil
}

// shebangInterpreter returns the real path of the interpreter a #! line
// names, through env (on the agent's PATH) when it is env, and then the name
// env looks up.
func shebangInterpreter(line []byte) (string, string, error) {
	fields := strings.Fields(strings.TrimPrefix(string(line), "#!"))
	if len(fields) == 0 {
		return "", "", errors.New("empty #! line")
	}
	interp, envName := fields[0], ""
	if filepath.Base(interp) == "env" {
		for _, f := range fields[1:] {
			if !strings.HasPrefix(f, "-") && !strings.Contains(f, "=") {
				envName = f
				break
			}
		}
		if envName == "" {
			return "", "", errors.New("#! env names no program")
		}
		p, err := exec.LookPath(envName)
		if err != nil {
			return "", "", fmt.Errorf("#! interpreter: %w", err)
		}
		interp = p
	}
	real, err := filepath.EvalSymlinks(interp)
	if err != nil {
		return "", "", fmt.Errorf("#! interpreter: %w", err)
	}
	return real, envName, nil
}

// lookPathIn finds name as env(1) would on the search path pathVar. An
// empty or relative entry met first is an error: what it would find
// depends on the folder the script is started in.
func lookPathIn(name, pathVar string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	for _, dir := range filepath.SplitList(pathVar) {
		if !filepath.IsAbs(dir) {
			return "", fmt.Errorf("PATH holds the relative folder %q", dir)
		}
		p := filepath.Join(dir, name)
		var st unix.Stat_t
		if unix.Stat(p, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Mode&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH", name)
}

// pathHash is exeHash for a file named by path: "" when root alone can
// change it, else its content hash.
func (id *Identifier) pathHash(path string) (string, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return "", fmt.Errorf("appid: stat %s: %w", path, err)
	}
	if rootOnly(path, &st) {
		return "", nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("appid: %w", err)
	}
	defer f.Close()
	sum, err := id.hashOpen(f, st.Dev, st.Ino)
	if err != nil {
		return "", fmt.Errorf("appid: %s", err)
	}
	return sum, nil
}
