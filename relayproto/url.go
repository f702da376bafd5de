package relayproto

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ErrURLRefused reports a URL that is neither https nor http to a loopback
// host, or that is not an absolute URL without user info.
var ErrURLRefused = errors.New("url refused")

// IsLoopbackHost reports whether host names this machine: "localhost" in any
// case (host names are case-insensitive, RFC 3986 §3.2.2), or a loopback IP
// address (127.0.0.0/8, ::1), IPv6 with or without its brackets. A port must
// already be split off.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if len(host) > 2 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckURL returns raw parsed when it is an absolute URL without user info
// whose scheme is https, or http to a loopback host: the one rule for every
// URL of the relay and its providers (docs/relay.md §1, docs/config.md).
// Errors wrap ErrURLRefused and quote no query.
func CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("not a URL: %w", ErrURLRefused)
	}
	switch {
	case u.Host == "":
		return nil, fmt.Errorf("url has no host: %w", ErrURLRefused)
	case u.User != nil:
		return nil, fmt.Errorf("url has user info: %w", ErrURLRefused)
	case u.Scheme == "https":
	case u.Scheme == "http" && IsLoopbackHost(u.Hostname()):
	default:
		return nil, fmt.Errorf("url %s://%s must be https (http only on loopback): %w", u.Scheme, u.Host, ErrURLRefused)
	}
	return u, nil
}

// HostAllowed reports whether host (without port) matches an allowed_hosts
// entry: exactly, ignoring case and a trailing dot; "*.x.com" matches every
// subdomain of x.com but not x.com itself, and never an IP address.
func HostAllowed(allowed []string, host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" {
		return false
	}
	isIP := net.ParseIP(strings.Trim(host, "[]")) != nil
	for _, a := range allowed {
		a = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(a)), ".")
		if rest, ok := strings.CutPrefix(a, "*."); ok {
			if rest != "" && !isIP && strings.HasSuffix(host, "."+rest) {
				return true
			}
			continue
		}
		if a != "" && a == host {
			return true
		}
	}
	return false
}
