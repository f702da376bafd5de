package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tokentray/tokentray/localapi"
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
		return fail(env, "sign", err)
	}
	if *asJSON {
		return printJSON(env, "sign", signed)
	}
	fmt.Fprintln(env.Stdout, signed.Query)
	return exitOK
}

// signRequest checks and assembles the METHOD PATH [k=v…] of sign and api.
func signRequest(method, path string, kv []string) (localapi.SignRequest, error) {
	method = strings.ToUpper(method)
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return localapi.SignRequest{}, usagef("method %q: want GET, POST, PUT, PATCH or DELETE", method)
	}
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#") {
		return localapi.SignRequest{}, usagef("path %q: want an absolute path without query, e.g. /api/v2/orders", path)
	}
	params, err := keyValues("parameter", kv)
	if err != nil {
		return localapi.SignRequest{}, err
	}
	return localapi.SignRequest{Method: method, Path: path, Params: params}, nil
}

const apiUsage = `Usage: tokentray api CONN METHOD PATH [KEY=VALUE...]

Calls the exchange's API with a request the agent signs, and prints the
answer's body on stdout. PATH is absolute as the exchange sees it
(/api/v2/members/me); a PATH outside the provider's api_base path is taken
relative to it (/members/me). The request goes to the provider's api_base
host (from /v1/providers); GET and DELETE send the parameters in the query,
POST, PUT and PATCH in a form body. A key the exchange reports dead (2008,
2010) makes one refresh (with if_generation) and one retry.
Exit code 1 when the exchange answers an error status.
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
	res, err := newAPICaller(client(env)).call(ctx, pos[0], req)
	if err != nil {
		return fail(env, "api", err)
	}
	env.Stdout.Write(res.body)
	if len(res.body) > 0 && res.body[len(res.body)-1] != '\n' {
		fmt.Fprintln(env.Stdout)
	}
	if res.status/100 != 2 {
		fmt.Fprintf(env.Stderr, "tokentray api: the exchange answered %d%s\n", res.status, res.describe())
		return exitError
	}
	return exitOK
}

// apiCaller calls a provider's API with requests signed by the agent.
type apiCaller struct {
	agent *localapi.Client
	http  *http.Client
}

func newAPICaller(c *localapi.Client) *apiCaller {
	return &apiCaller{agent: c, http: &http.Client{
		Timeout: 30 * time.Second,
		// A signed request goes only where it was signed for.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// apiResult is the exchange's answer.
type apiResult struct {
	status int
	body   []byte
	code   int // the Peatio error code in the body, or 0
	msg    string
}

func (r apiResult) describe() string {
	if r.code == 0 {
		return ""
	}
	return fmt.Sprintf(": error %d: %s", r.code, r.msg)
}

// The Peatio error codes of a dead key (CONTRACTS §4, refresh).
const (
	peatioUnknownKey = 2008
	peatioExpiredKey = 2010
)

// call signs req for connection id, sends it to the provider's API and,
// if the exchange reports the key dead, refreshes once and retries.
func (a *apiCaller) call(ctx context.Context, id string, req localapi.SignRequest) (apiResult, error) {
	conn, err := a.agent.Connection(ctx, id)
	if err != nil {
		return apiResult{}, err
	}
	base, err := a.apiBase(ctx, conn.Provider)
	if err != nil {
		return apiResult{}, err
	}
	req.Path = joinAPIPath(base.Path, req.Path)
	res, err := a.send(ctx, conn.ID, base, req)
	if err != nil || (res.code != peatioUnknownKey && res.code != peatioExpiredKey) {
		return res, err
	}
	gen := conn.Generation
	if _, err := a.agent.Refresh(ctx, conn.ID, &gen); err != nil {
		return apiResult{}, fmt.Errorf("the exchange refused the key (error %d) and the refresh failed: %w", res.code, err)
	}
	return a.send(ctx, conn.ID, base, req)
}

// apiBase returns the parsed api_base of provider.
func (a *apiCaller) apiBase(ctx context.Context, provider string) (*url.URL, error) {
	providers, err := a.agent.Providers(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range providers {
		if p.ID != provider {
			continue
		}
		u, err := url.Parse(p.APIBase)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, fmt.Errorf("provider %s has no usable api_base %q", provider, p.APIBase)
		}
		return u, nil
	}
	return nil, fmt.Errorf("the agent knows no provider %q any more", provider)
}

// joinAPIPath returns path if it lies under basePath, else basePath+path.
func joinAPIPath(basePath, path string) string {
	basePath = strings.TrimRight(basePath, "/")
	if basePath == "" || path == basePath || strings.HasPrefix(path, basePath+"/") {
		return path
	}
	return basePath + path
}

// send signs req and sends it once.
func (a *apiCaller) send(ctx context.Context, id string, base *url.URL, req localapi.SignRequest) (apiResult, error) {
	signed, err := a.agent.Sign(ctx, id, req)
	if err != nil {
		return apiResult{}, err
	}
	u := url.URL{Scheme: base.Scheme, Host: base.Host, Path: req.Path}
	var body io.Reader
	switch req.Method {
	case http.MethodGet, http.MethodDelete:
		u.RawQuery = signed.Query
	default:
		body = strings.NewReader(signed.Query)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, u.String(), body)
	if err != nil {
		return apiResult{}, fmt.Errorf("build the request: %w", err)
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	hr.Header.Set("Accept", "application/json")
	resp, err := a.http.Do(hr)
	if err != nil {
		// The URL carries the signature: name only the host.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return apiResult{}, fmt.Errorf("call %s: %w", base.Host, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return apiResult{}, fmt.Errorf("read the answer of %s: %w", base.Host, err)
	}
	res := apiResult{status: resp.StatusCode, body: b}
	if resp.StatusCode/100 != 2 {
		res.code, res.msg = peatioError(b)
	}
	return res, nil
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
