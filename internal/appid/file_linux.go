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

// IdentifyFile names the app the file at path is when it runs: a binary, or
// a script under the interpreter its #! line names (through env, looked up
// on the caller's PATH). It is for a proposal that a human confirms
// (`tokentray approve PATH|SCRIPT`): the key matches what Identify gives the
// running program, unless the script is started by another interpreter, or
// by a wrapper (a pyenv shim) that Identify looks through and this does not.
func (id *Identifier) IdentifyFile(path string) (App, error) {
	if !filepath.IsAbs(path) {
		return App{}, fmt.Errorf("appid: %s: not an absolute path", path)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return App{}, fmt.Errorf("appid: %w", err)
	}
	head, err := readHead(real)
	if err != nil {
		return App{}, err
	}
	if !bytes.HasPrefix(head, []byte("#!")) {
		sha, err := id.pathHash(real)
		if err != nil {
			return App{}, err
		}
		if loaderName.MatchString(filepath.Base(real)) {
			return App{}, fmt.Errorf("appid: %s is the dynamic loader", real)
		}
		return App{Kind: Binary, Key: exeKey(real, sha), Name: filepath.Base(real), Exe: real, ExeSHA256: sha}, nil
	}
	interp, err := shebangInterpreter(head)
	if err != nil {
		return App{}, fmt.Errorf("appid: %s: %w", real, err)
	}
	if familyOf(interp) == famNone {
		return App{}, fmt.Errorf("appid: %s: %s is not an interpreter it knows", real, interp)
	}
	exeSHA, err := id.pathHash(interp)
	if err != nil {
		return App{}, err
	}
	sha, err := id.fileHash(real)
	if err != nil {
		return App{}, fmt.Errorf("appid: %s", err)
	}
	return App{Kind: Script, Key: ScriptKey(interp, exeSHA, real, sha), Name: filepath.Base(interp) + " " + filepath.Base(real),
		Exe: interp, ExeSHA256: exeSHA, Script: real, ScriptSHA256: sha}, nil
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
// names, through env when it is env.
func shebangInterpreter(line []byte) (string, error) {
	fields := strings.Fields(strings.TrimPrefix(string(line), "#!"))
	if len(fields) == 0 {
		return "", errors.New("empty #! line")
	}
	interp := fields[0]
	if filepath.Base(interp) == "env" {
		interp = ""
		for _, f := range fields[1:] {
			if !strings.HasPrefix(f, "-") && !strings.Contains(f, "=") {
				interp = f
				break
			}
		}
		if interp == "" {
			return "", errors.New("#! env names no program")
		}
		p, err := exec.LookPath(interp)
		if err != nil {
			return "", fmt.Errorf("#! interpreter: %w", err)
		}
		interp = p
	}
	real, err := filepath.EvalSymlinks(interp)
	if err != nil {
		return "", fmt.Errorf("#! interpreter: %w", err)
	}
	return real, nil
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
