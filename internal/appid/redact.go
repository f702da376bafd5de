package appid

import (
	"regexp"
	"strings"
)

// ShowArgs is QuoteArgs for a human's eyes: the prompt shows the command
// lines of the app, the CLI and its parents, and people pass secrets as
// arguments (--api-secret X, TOKEN=X, curl -H "Authorization: Bearer X",
// https://user:pass@host). Those values are replaced by "‹hidden›" so that a prompt on the screen, or a screenshot of it, does
// not show them. The app's identity never depends on its arguments, so
// nothing the human decides is hidden by this.
func ShowArgs(args []string) string {
	out := make([]string, len(args))
	hideNext := false
	for i, a := range args {
		switch {
		case hideNext && !strings.HasPrefix(a, "-"):
			a = hidden(a)
		default:
			a = redactArg(a)
		}
		hideNext = secretFlag.MatchString(a)
		out[i] = a
	}
	return QuoteArgs(out)
}

// secretWord is a name that says its value is a secret: api_key, apiSecret,
// --password, X-Auth-Token, PRIVATE_KEY, client-secret, bearer.
const secretWord = `(?i)(pass(word|wd|phrase)?|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|auth|credential|cookie|bearer|signature)`

var (
	// secretFlag is an option whose value follows it as the next argument.
	secretFlag = regexp.MustCompile(`^--?[A-Za-z0-9_-]*` + secretWord + `[A-Za-z0-9_-]*$`)
	// secretAssign is --flag=value or NAME=value with a secret's name.
	secretAssign = regexp.MustCompile(`^(-{0,2}[A-Za-z0-9_.-]*` + secretWord + `[A-Za-z0-9_.-]*=)(.+)$`)
	// secretHeader is an HTTP header carrying a credential (curl -H).
	secretHeader = regexp.MustCompile(`^([A-Za-z0-9-]*` + secretWord + `[A-Za-z0-9-]*:\s*)(.+)$`)
	// urlPassword is the password of user:password@ in a URL.
	urlPassword = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9+.-]*://[^/:@\s]*:)([^/@\s]+)(@.*)$`)
	// tokenLike is a bare argument that looks like a key: 24 or more
	// characters of a base64 or hex alphabet with letters and digits both,
	// or two halves of 16 or more around a colon (EXchange's AK:SK).
	tokenLike = regexp.MustCompile(`^([A-Za-z0-9+/_=-]{24,}|[A-Za-z0-9+/_=-]{16,}:[A-Za-z0-9+/_=-]{16,})$`)
)

// redactArg hides the secret part of one argument, keeping what names it.
func redactArg(a string) string {
	for _, re := range []*regexp.Regexp{secretAssign, secretHeader} {
		if m := re.FindStringSubmatch(a); m != nil {
			return m[1] + hidden(m[2])
		}
	}
	if m := urlPassword.FindStringSubmatch(a); m != nil {
		return m[1] + hidden(m[2]) + m[3]
	}
	if looksLikeKey(a) {
		return hidden(a)
	}
	return a
}

// looksLikeKey says a bare argument is probably a key or token rather than
// a path, a word or a number.
func looksLikeKey(a string) bool {
	if !tokenLike.MatchString(a) || strings.HasPrefix(a, "-") || strings.HasPrefix(a, "/") {
		return false
	}
	return strings.ContainsAny(a, "0123456789") && strings.IndexFunc(a, func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}) >= 0
}

// hidden stands for a secret value. It has no space, so QuoteArgs leaves
// it (and the --flag= before it) unquoted.
func hidden(string) string { return "‹hidden›" }
