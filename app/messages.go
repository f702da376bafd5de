package app

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/tokentray/tokentray/localclient"
)

// This file turns errors and durations into what a trader reads: sentences
// about their account, no package prefixes, no Go error chains. The chain
// goes to the log; the provider's own words are kept where they help.

// providerWords finds the provider's or relay's own text in an agent
// message ("… provider error access_denied: The resource owner denied …").
var providerWords = regexp.MustCompile(`(?:provider|relay|server) error ([A-Za-z0-9_.-]+)(?:: (.*))?$`)

// sentence is err as a sentence for the window; name is the provider's name
// ("EXchange"), or "" when the error concerns no provider.
func sentence(err error, name string) string {
	if name == "" {
		name = "The provider"
	}
	var apiErr *localclient.Error
	switch {
	case err == nil:
		return ""
	case errors.Is(err, localclient.ErrAgentNotRunning):
		return "The tokentray agent is not running, so nothing can be done right now. Start tokentray again."
	case errors.Is(err, context.DeadlineExceeded):
		return "The tokentray agent took too long to answer. Try again in a moment."
	case errors.Is(err, context.Canceled):
		return "Cancelled; nothing was changed."
	case !errors.As(err, &apiErr):
		return "The tokentray agent could not be reached. Try again in a moment."
	}
	switch apiErr.Code {
	case localclient.CodeProviderError:
		if words := providerText(apiErr.Message); words != "" {
			return name + " refused: " + words
		}
		return name + " refused the request. Try again, or reconnect the account."
	case localclient.CodeRelayUnreachable:
		return "The tokentray relay cannot be reached right now, so " + lower(name) + " cannot be asked. Check your internet connection; tokentray will try again."
	case localclient.CodeNeedsReconnect:
		return name + " no longer accepts this connection. Reconnect it to use it again."
	case localclient.CodeNotFound:
		return "This connection no longer exists; it may have been revoked."
	case localclient.CodeForbidden:
		return "tokentray refused: " + lastPart(apiErr.Message)
	case localclient.CodeBadRequest:
		return capital(lastPart(apiErr.Message)) + "."
	}
	return "Something went wrong inside tokentray; its log has the details."
}

// lower is name as it reads inside a sentence: "The provider" becomes "the
// provider", a brand name stays.
func lower(name string) string {
	if name == "The provider" {
		return "the provider"
	}
	return name
}

// providerText is the provider's own words in an agent message, verbatim,
// ending in a full stop; "" when the message holds none.
func providerText(msg string) string {
	m := providerWords.FindStringSubmatch(msg)
	if m == nil {
		return ""
	}
	words := strings.TrimSpace(m[2])
	if words == "" {
		words = strings.ReplaceAll(m[1], "_", " ")
	}
	if !strings.HasSuffix(words, ".") {
		words += "."
	}
	return words
}

// lastPart drops the "doing x: doing y: " context of a Go error chain and
// keeps what went wrong, without a trailing full stop.
func lastPart(msg string) string {
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return strings.TrimSuffix(strings.TrimSpace(msg), ".")
}

// capital starts s with a capital letter.
func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
