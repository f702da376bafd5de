// Package localapi is the HTTP/JSON API that the agent serves on a Unix
// socket, and the Go client that the CLI and the GUI use to call it.
package localapi
