package localapi

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/tokentray/tokentray/localclient"
	"github.com/tokentray/tokentray/oauthflow"
)

// proxiedHeaders are the provider's answer headers a script gets back; the
// rest (cookies, connection management, the provider's own encodings) stay.
var proxiedHeaders = []string{
	"Content-Type", "Content-Length", "Content-Disposition", "Cache-Control", "Date",
	"ETag", "Last-Modified", "Link", "Location", "Retry-After",
}

// proxyConnection reports whether the escaped path is a proxy request
// (/v1/connections/{id}/proxy/…) and returns the connection id.
func proxyConnection(escaped string) (string, bool) {
	rest, ok := strings.CutPrefix(escaped, "/v1/connections/")
	if !ok {
		return "", false
	}
	rawID, _, ok := strings.Cut(rest, "/proxy/")
	if !ok || rawID == "" || strings.Contains(rawID, "/") {
		return "", false
	}
	id, err := url.PathUnescape(rawID)
	return id, err == nil
}

// serveProxy: ANY /v1/connections/{id}/proxy/{path…} — the request goes to
// the connection's api_base + "/" + path, authenticated by the agent, and the
// answer streams back. For peatio connections the parameters are the query
// plus, for a form body, its fields; bearer connections pass the body as is.
func (s *Server) serveProxy(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rel, ok := rawProxyPath(r, id)
	if !ok {
		writeError(w, localclient.CodeBadRequest, "the proxied path could not be read")
		return
	}
	req := oauthflow.APIRequest{Method: r.Method, Path: rel, Params: r.URL.Query()}
	if err := readProxyBody(r, &req); err != nil {
		writeError(w, localclient.CodeBadRequest, err.Error())
		return
	}
	s.logCall(r, id, "proxy", r.Method, rel)
	if !s.gate(w, r, id, "proxy") {
		return
	}
	resp, err := s.agent.Proxy(r.Context(), id, req)
	if err != nil {
		if errors.Is(err, oauthflow.ErrPathRefused) || errors.Is(err, oauthflow.ErrHostNotAllowed) {
			writeError(w, localclient.CodeForbidden, err.Error())
			return
		}
		writeAgentError(w, err)
		return
	}
	defer resp.Body.Close()
	for _, h := range proxiedHeaders {
		if v := resp.Header.Values(h); len(v) > 0 {
			w.Header()[h] = v
		}
	}
	w.WriteHeader(resp.StatusCode)
	streamBody(w, resp)
}

// rawProxyPath returns the path after /proxy/ still escaped, so that the
// agent sees encoded slashes and dots and can refuse them.
func rawProxyPath(r *http.Request, id string) (string, bool) {
	prefix := "/v1/connections/" + url.PathEscape(id) + "/proxy/"
	raw := r.URL.EscapedPath()
	if !strings.HasPrefix(raw, prefix) {
		// The id may have been escaped differently by the client.
		_, rest, found := strings.Cut(strings.TrimPrefix(raw, "/v1/connections/"), "/proxy/")
		return rest, found
	}
	return strings.TrimPrefix(raw, prefix), true
}

// readProxyBody takes a form body's fields as parameters; any other body
// goes along as it is (bearer connections only: a Peatio signature covers
// parameters, not a raw body).
func readProxyBody(r *http.Request, req *oauthflow.APIRequest) error {
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		req.Body, req.ContentType = r.Body, r.Header.Get("Content-Type")
		return nil
	}
	if err := r.ParseForm(); err != nil {
		return fmt.Errorf("the form body does not parse: %w", err)
	}
	for k, vs := range r.PostForm {
		req.Params[k] = append(req.Params[k], vs...)
	}
	return nil
}

// streamBody copies the answer as it arrives, flushing each piece, so that a
// large or slow answer is never held whole.
func streamBody(w http.ResponseWriter, resp *http.Response) {
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			rc.Flush()
		}
		if err != nil {
			return
		}
	}
}
