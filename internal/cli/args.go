package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// usageError is a mistake in the command line: exit 2 with the usage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error {
	return &usageError{fmt.Sprintf(format, a...)}
}

// newFlags returns a flag set that reports nothing itself: parseArgs does.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseArgs parses args with fs, accepting flags before, between and after
// the positional arguments (everything after "--" is positional), and checks
// there are between min and max positionals (max < 0: no limit). On --help
// it prints usageText on stdout; on a mistake, the mistake and usageText on
// stderr. ok is false when the command should return code at once.
func parseArgs(env Env, name, usageText string, fs *flag.FlagSet, args []string, min, max int) (pos []string, code int, ok bool) {
	flags, pos := splitArgs(fs, args)
	err := fs.Parse(flags)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(env.Stdout, usageText)
		return nil, exitOK, false
	}
	if err == nil {
		switch {
		case len(pos) < min:
			err = errors.New("missing arguments")
		case max >= 0 && len(pos) > max:
			err = fmt.Errorf("unexpected argument %q", pos[max])
		}
	}
	if err != nil {
		return nil, usageFail(env, name, usageText, err), false
	}
	return pos, exitOK, true
}

// usageFail reports a usage mistake on stderr and returns exit code 2.
func usageFail(env Env, name, usageText string, err error) int {
	fmt.Fprintf(env.Stderr, "tokentray %s: %s\n\n%s", name, err, usageText)
	return exitUsage
}

// splitArgs separates flags (with their values) from positional arguments.
func splitArgs(fs *flag.FlagSet, args []string) (flags, pos []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return flags, append(pos, args[i+1:]...)
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil && !isBoolFlag(f) && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	return flags, pos
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// listFlag collects a repeatable flag's values.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// keyValues parses "k=v" arguments into a map; a key may not repeat.
func keyValues(what string, args []string) (map[string]string, error) {
	out := make(map[string]string, len(args))
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, usagef("%s %q: want KEY=VALUE", what, a)
		}
		if _, dup := out[k]; dup {
			return nil, usagef("%s %q given twice", what, k)
		}
		out[k] = v
	}
	return out, nil
}
