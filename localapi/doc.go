// Package localapi is the HTTP/JSON API that the agent serves on a Unix socket
// (docs/socket-api.md). Its Go client, and the bodies both sides speak, are package
// localclient, which links nothing of the agent; the socket itself, reachable
// only by the agent's user, is package safesocket.
//
// Requests that carry Origin or Referer are refused, so a web page cannot
// reach the agent through a browser.
package localapi
