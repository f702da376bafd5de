// Package prototest holds the cases both sides of the relay protocol are
// tested against, so that the relay and the device cannot drift apart.
package prototest

// URLCase is one URL and whether the "https, or http on loopback" rule
// accepts it.
type URLCase struct {
	URL string
	OK  bool
}

// URLs are the cases of the rule: https anywhere; http only to localhost (in
// any case), 127.0.0.0/8 or ::1; never user info or a missing host.
var URLs = []URLCase{
	{"https://relay.example.com", true},
	{"https://RELAY.example.com/base", true},
	{"HTTPS://relay.example.com", true},
	{"https://192.0.2.1:8443", true},
	{"http://127.0.0.1:8787", true},
	{"http://127.1.2.3", true},
	{"http://[::1]:8787", true},
	{"http://[::1]", true},
	{"http://localhost:8787", true},
	{"http://LOCALHOST:8787", true},
	{"http://LocalHost", true},
	{"HTTP://127.0.0.1:1", true},
	{"http://relay.example.com", false},
	{"http://localhost.example.com", false},
	{"http://127.0.0.1.nip.io", false},
	{"http://192.0.2.1", false},
	{"http://[::2]:1", false},
	{"http://[::ffff:192.0.2.1]:1", false},
	{"http://0.0.0.0:8787", false},
	{"ftp://127.0.0.1", false},
	{"https://user@relay.example.com", false},
	{"http://user:pw@127.0.0.1:1", false},
	{"https://", false},
	{"relay.example.com", false},
	{"/v1/providers", false},
	{"", false},
}
