package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/tokentray/tokentray/localclient"
)

const signUsage = `Usage: tokentray sign CONN METHOD PATH [KEY=VALUE...] [--json]

Signs an exchange API request with the connection's key, without the key
leaving the agent. PATH is absolute as the exchange sees it
(/api/v2/orders). Prints the full query string to send (access_key, tonce,
signature and the parameters) on stdout:

  curl "$API/api/v2/members/me?$(tokentray sign exchange GET /api/v2/members/me)"

  --json  print the agent's /sign body (access_key, tonce, signature, query)
`

func runSign(env Env, args []string) int {
	fs := newFlags("sign")
	asJSON := fs.Bool("json", false, "")
	pos, code, ok := parseArgs(env, "sign", signUsage, fs, args, 3, -1)
	if !ok {
		return code
	}
	req, err := signRequest(pos[1], pos[2], pos[3:])
	if err != nil {
		return usageFail(env, "sign", signUsage, err)
	}
	signed, err := client(env).Sign(env.Context, pos[0], req)
	if err != nil {
		return failConn(env, "sign", pos[0], err)
	}
	if *asJSON {
		return printJSON(env, "sign", signed)
	}
	fmt.Fprintln(env.Stdout, signed.Query)
	return exitOK
}

// signRequest checks and assembles the METHOD PATH [k=v…] of sign and api.
func signRequest(method, path string, kv []string) (localclient.SignRequest, error) {
	method = strings.ToUpper(method)
	switch method {
	case "GET", "POST", "PUT", "PATCH", "DELETE":
	default:
		return localclient.SignRequest{}, usagef("method %q: want GET, POST, PUT, PATCH or DELETE", method)
	}
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#") {
		return localclient.SignRequest{}, usagef("path %q: want an absolute path without query, e.g. /api/v2/orders", path)
	}
	params, err := keyValues("parameter", kv)
	if err != nil {
		return localclient.SignRequest{}, err
	}
	return localclient.SignRequest{Method: method, Path: path, Params: params}, nil
}

const apiUsage = `Usage: tokentray api CONN METHOD PATH [KEY=VALUE...]

Calls the provider's API through the agent's signing proxy and prints the
answer's body on stdout: the script never holds a key. PATH is the API path
(/api/v2/members/me), or relative to the provider's api_base (/members/me).
GET and DELETE send the parameters in the query, POST, PUT and PATCH in a
form body. A GET that meets a dead key (2008, 2010) is refreshed and sent
again once by the agent; other methods are never sent twice.
Exit code 1 when the provider answers an error status.
`

func runAPI(env Env, args []string) int {
	pos, code, ok := parseArgs(env, "api", apiUsage, newFlags("api"), args, 3, -1)
	if !ok {
		return code
	}
	req, err := signRequest(pos[1], pos[2], pos[3:])
	if err != nil {
		return usageFail(env, "api", apiUsage, err)
	}
	ctx := env.Context
	c := client(env)
	rel, err := relativeAPIPath(ctx, c, pos[0], req.Path)
	if err != nil {
		return fail(env, "api", err)
	}
	params := url.Values{}
	for k, v := range req.Params {
		params.Set(k, v)
	}
	resp, err := c.Proxy(ctx, pos[0], req.Method, rel, params)
	if err != nil {
		return failConn(env, "api", pos[0], err)
	}
	defer resp.Body.Close()
	// The body streams to stdout; its start is kept to describe an error.
	head := &limitedBuffer{max: 64 << 10}
	n, err := io.Copy(env.Stdout, io.TeeReader(resp.Body, head))
	if err != nil {
		return fail(env, "api", fmt.Errorf("read the answer: %w", err))
	}
	if b := head.buf.Bytes(); n > 0 && len(b) > 0 && b[len(b)-1] != '\n' {
		fmt.Fprintln(env.Stdout)
	}
	if resp.StatusCode/100 != 2 {
		msg := ""
		if code, text := peatioError(head.buf.Bytes()); code != 0 {
			msg = fmt.Sprintf(": error %d: %s", code, text)
		}
		fmt.Fprintf(env.Stderr, "tokentray api: the exchange answered %d%s\n", resp.StatusCode, msg)
		return exitError
	}
	return exitOK
}

// relativeAPIPath turns an API path into one relative to the connection's
// api_base: /api/v2/members/me and /members/me both give members/me when
// api_base ends in /api/v2.
func relativeAPIPath(ctx context.Context, c *localclient.Client, id, path string) (string, error) {
	conn, err := c.Connection(ctx, id)
	if err != nil {
		return "", err
	}
	providers, err := c.Providers(ctx)
	if err != nil {
		return "", err
	}
	for _, p := range providers {
		if p.ID != conn.Provider {
			continue
		}
		u, err := url.Parse(p.APIBase)
		if err != nil {
			return "", fmt.Errorf("provider %s has no usable api_base %q", p.ID, p.APIBase)
		}
		return relativePath(u.Path, path), nil
	}
	return relativePath("", path), nil
}

// relativePath returns path relative to basePath when it lies under it, else
// path without its leading slash.
func relativePath(basePath, path string) string {
	basePath = strings.TrimRight(basePath, "/")
	if basePath != "" && strings.HasPrefix(path, basePath+"/") {
		path = strings.TrimPrefix(path, basePath)
	}
	return strings.TrimPrefix(path, "/")
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	buf bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// peatioError returns the code and message of a Peatio error body
// {"error":{"code":N,"message":M}}, or 0.
func peatioError(body []byte) (int, string) {
	var e struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return 0, ""
	}
	return e.Error.Code, e.Error.Message
}
