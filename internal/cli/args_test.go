package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/localclient"
)

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		name             string
		args, flags, pos []string
	}{
		{"flags after positionals", []string{"exchange", "--json", "--min-valid", "5m"}, []string{"--json", "--min-valid", "5m"}, []string{"exchange"}},
		{"flags first", []string{"--min-valid=5m", "exchange"}, []string{"--min-valid=5m"}, []string{"exchange"}},
		{"bool flag takes no value", []string{"--json", "exchange"}, []string{"--json"}, []string{"exchange"}},
		{"double dash ends flags", []string{"x", "--", "--json", "-"}, nil, []string{"x", "--json", "-"}},
		{"lone dash is positional", []string{"-"}, nil, []string{"-"}},
		{"unknown flag kept for Parse to refuse", []string{"--bogus", "x"}, []string{"--bogus"}, []string{"x"}},
		{"value flag at the end", []string{"x", "--min-valid"}, []string{"--min-valid"}, []string{"x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := newFlags("t")
			fs.Bool("json", false, "")
			fs.Duration("min-valid", 0, "")
			flags, pos := splitArgs(fs, tt.args)
			if !slices.Equal(flags, tt.flags) || !slices.Equal(pos, tt.pos) {
				t.Fatalf("splitArgs(%q) = %q, %q; want %q, %q", tt.args, flags, pos, tt.flags, tt.pos)
			}
		})
	}
}

// FuzzSplitArgs: splitting loses and invents nothing; it only reorders.
func FuzzSplitArgs(f *testing.F) {
	f.Add("exchange\x00--json\x00--min-valid\x005m")
	f.Add("--\x00--json")
	f.Add("-\x00--min-valid=1s\x00a=b")
	f.Add("--min-valid\x00--")
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		fs := newFlags("t")
		fs.Bool("json", false, "")
		fs.Duration("min-valid", 0, "")
		flags, pos := splitArgs(fs, args)
		// What is left of args after taking out every flag and positional
		// is nothing, or the one "--" that ended the flags.
		left := slices.Clone(args)
		for _, a := range append(slices.Clone(flags), pos...) {
			i := slices.Index(left, a)
			if i < 0 {
				t.Fatalf("splitArgs(%q) = %q + %q: %q was not given", args, flags, pos, a)
			}
			left = slices.Delete(left, i, i+1)
		}
		if len(left) > 1 || (len(left) == 1 && left[0] != "--") {
			t.Fatalf("splitArgs(%q) = %q + %q: lost %q", args, flags, pos, left)
		}
	})
}

func TestKeyValues(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    map[string]string
		errText string
	}{
		{"pairs", []string{"a=1", "b="}, map[string]string{"a": "1", "b": ""}, ""},
		{"value holds =", []string{"q=a=b"}, map[string]string{"q": "a=b"}, ""},
		{"no =", []string{"a"}, nil, `"a": want KEY=VALUE`},
		{"empty key", []string{"=1"}, nil, `"=1": want KEY=VALUE`},
		{"twice", []string{"a=1", "a=2"}, nil, `"a" given twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := keyValues("parameter", tt.args)
			if tt.errText != "" {
				var ue *usageError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("keyValues(%q) = %v, want a usage error with %q", tt.args, err, tt.errText)
				}
				return
			}
			if err != nil || fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("keyValues(%q) = %v, %v; want %v", tt.args, got, err, tt.want)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"bad request", &localclient.Error{Code: localclient.CodeBadRequest, Message: "m"}, 2},
		{"usage", usagef("x"), 2},
		{"forbidden", &localclient.Error{Code: localclient.CodeForbidden, Message: "m"}, 1},
		{"not found", &localclient.Error{Code: localclient.CodeNotFound, Message: "m"}, 3},
		{"needs reconnect", &localclient.Error{Code: localclient.CodeNeedsReconnect, Message: "m"}, 3},
		{"no connection", errNotConnected, 3},
		{"provider error", &localclient.Error{Code: localclient.CodeProviderError, Message: "m"}, 1},
		{"relay unreachable", &localclient.Error{Code: localclient.CodeRelayUnreachable, Message: "m"}, 1},
		{"internal", &localclient.Error{Code: localclient.CodeInternal, Message: "m"}, 1},
		{"no agent", fmt.Errorf("call: %w", localclient.ErrAgentNotRunning), 4},
		{"other", errors.New("boom"), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.err); got != tt.want {
				t.Fatalf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestRelativePath(t *testing.T) {
	tests := []struct{ name, base, path, want string }{
		{"absolute", "/api/v2", "/api/v2/members/me", "members/me"},
		{"relative to base", "/api/v2", "/members/me", "members/me"},
		{"base with slash", "/api/v2/", "/orders", "orders"},
		{"prefix is not a folder", "/api/v2", "/api/v20/x", "api/v20/x"},
		{"no base path", "", "/members/me", "members/me"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := relativePath(tt.base, tt.path); got != tt.want {
				t.Fatalf("relativePath(%q, %q) = %q, want %q", tt.base, tt.path, got, tt.want)
			}
		})
	}
}

func TestPeatioError(t *testing.T) {
	tests := []struct {
		name, body string
		code       int
	}{
		{"error", `{"error":{"code":2008,"message":"The access key does not exist."}}`, 2008},
		{"success", `{"sn":"X"}`, 0},
		{"not json", `<html>502</html>`, 0},
		{"array", `[1]`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, _ := peatioError([]byte(tt.body)); code != tt.code {
				t.Fatalf("peatioError(%q) = %d, want %d", tt.body, code, tt.code)
			}
		})
	}
}
