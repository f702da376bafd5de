// Package agent is the core of tokentray: it owns connections, keeps their
// keys fresh, and publishes events, settings and an activity record. The
// socket API, the CLI and the GUI are all views of it.
package agent
