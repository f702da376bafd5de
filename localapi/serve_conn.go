package localapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tokentray/tokentray/agent"
	"github.com/tokentray/tokentray/localclient"
)

// wireConnection maps the agent's connection to the API's.
func wireConnection(c agent.Connection) localclient.Connection {
	return localclient.Connection{
		ID: c.ID, Provider: c.Provider, Label: c.Label, Account: c.Account,
		Fields: c.Fields, ScopesGranted: nonNil(c.ScopesGranted), ScopesRequested: nonNil(c.ScopesRequested),
		ExpiresAt: c.ExpiresAt.UTC(), State: c.State, Generation: c.Generation, RawKeys: c.RawKeys,
		Default: c.Default,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// decodeBody decodes a JSON body into v, refusing unknown fields, trailing
// data and bodies over the limit; it answers 400 itself and returns false.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, optional bool) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if optional && errors.Is(err, io.EOF) {
		return true
	}
	if err == nil {
		// Exactly one value: anything after it but white space is refused,
		// including a stray "}" or "]" that dec.More would not report.
		if extra := dec.Decode(&json.RawMessage{}); !errors.Is(extra, io.EOF) {
			err = extra
			var tooBig *http.MaxBytesError
			if !errors.As(extra, &tooBig) {
				err = errors.New("trailing data after the JSON object")
			}
		}
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, localclient.CodeBadRequest, fmt.Sprintf("request body is larger than %d bytes", tooBig.Limit))
			return false
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			writeError(w, localclient.CodeBadRequest, fmt.Sprintf("request body did not arrive within %v", bodyReadTimeout))
			return false
		}
		writeError(w, localclient.CodeBadRequest, "request body is not valid JSON: "+err.Error())
		return false
	}
	return true
}

// serveConnections: GET /v1/connections.
func (s *Server) serveConnections(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	conns := s.agent.Connections()
	out := make([]localclient.Connection, len(conns))
	for i, c := range conns {
		out[i] = wireConnection(c)
	}
	writeJSON(w, map[string]any{"connections": out})
}

// serveConnection: GET, PATCH and DELETE /v1/connections/{id}.
func (s *Server) serveConnection(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodPatch, http.MethodDelete) {
		return
	}
	id := r.PathValue("id")
	switch r.Method {
	case http.MethodGet:
		c, err := s.agent.Connection(id)
		if err != nil {
			writeAgentError(w, err)
			return
		}
		writeJSON(w, wireConnection(c))
	case http.MethodPatch:
		var p localclient.ConnectionPatch
		if !decodeBody(w, r, &p, false) {
			return
		}
		s.logActivity(r, id, "update")
		c, err := s.agent.UpdateConnection(id, agent.ConnectionPatch{Label: p.Label, RawKeys: p.RawKeys, Default: p.Default})
		if err != nil {
			writeAgentError(w, err)
			return
		}
		writeJSON(w, wireConnection(c))
	case http.MethodDelete:
		s.logActivity(r, id, "revoke")
		res, err := s.agent.Revoke(r.Context(), id)
		if err != nil {
			writeAgentError(w, err)
			return
		}
		writeJSON(w, localclient.RevokeResult{RevokedAtProvider: res.RevokedAtProvider, Message: res.Message})
	}
}

// serveToken: GET /v1/connections/{id}/token[?min_valid=SECONDS]. The hot
// path: no enclave is opened, the key is read from locked memory into a
// locked answer (lockedjson.go).
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	s.writeToken(w, r, r.PathValue("id"))
}

// serveOnlyToken: GET /v1/token[?min_valid=SECONDS], the key of the only
// connection. It lets `tokentray token` without CONN make one request
// instead of listing the connections first.
func (s *Server) serveOnlyToken(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	conns := s.agent.Connections()
	switch len(conns) {
	case 0:
		writeError(w, localclient.CodeNotFound, "there is no connection yet; connect an account first")
		return
	case 1:
		s.writeToken(w, r, conns[0].ID)
		return
	}
	ids := make([]string, len(conns))
	for i, c := range conns {
		ids[i] = c.ID
	}
	writeError(w, localclient.CodeBadRequest, fmt.Sprintf("there are %d connections (%s): name one", len(conns), strings.Join(ids, ", ")))
}

// writeToken answers the key of connection id (the id or a provider id).
func (s *Server) writeToken(w http.ResponseWriter, r *http.Request, id string) {
	var minValid time.Duration
	if v := r.URL.Query().Get("min_valid"); v != "" {
		secs, err := strconv.ParseInt(v, 10, 32)
		if err != nil || secs < 0 {
			writeError(w, localclient.CodeBadRequest, fmt.Sprintf("min_valid must be a whole number of seconds, not %q", v))
			return
		}
		minValid = time.Duration(secs) * time.Second
	}
	s.logActivity(r, id, "token")
	if !s.gate(w, r, id, "token") {
		return
	}
	// The key goes from the agent's locked memory into a locked answer,
	// never through a Go string; the answer is wiped once written.
	var answer *keyAnswer
	err := s.agent.ReadKey(r.Context(), id, minValid, func(v agent.KeyView) error {
		var err error
		answer, err = newKeyAnswer(v)
		return err
	})
	if err != nil {
		writeAgentError(w, err)
		return
	}
	defer answer.Close()
	w.Header().Set("Cache-Control", "no-store")
	answer.writeTo(w)
}

// signMethods are the methods /sign accepts (docs/socket-api.md).
var signMethods = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true}

// truncate cuts s to at most n bytes for an error message.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// serveSign: POST /v1/connections/{id}/sign.
func (s *Server) serveSign(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodPost) {
		return
	}
	var req localclient.SignRequest
	if !decodeBody(w, r, &req, false) {
		return
	}
	if req.Method == "" || req.Path == "" {
		writeError(w, localclient.CodeBadRequest, `sign needs "method" and "path"`)
		return
	}
	// The method is part of the signed payload "METHOD|PATH|QUERY": a "|"
	// or a line break in it would let a caller shape what gets signed.
	if !signMethods[strings.ToUpper(req.Method)] {
		writeError(w, localclient.CodeBadRequest, fmt.Sprintf("sign: method %q is not one of GET POST PUT PATCH DELETE", truncate(req.Method, 16)))
		return
	}
	id := r.PathValue("id")
	s.logCall(r, id, "sign", req.Method, req.Path)
	if !s.gate(w, r, id, "sign") {
		return
	}
	signed, _, err := s.agent.Sign(r.Context(), id, req.Method, req.Path, req.Params)
	if err != nil {
		writeAgentError(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, localclient.Signed{AccessKey: signed.AccessKey, Tonce: signed.Tonce, Signature: signed.Signature, Query: signed.Query})
}

// serveRefresh: POST /v1/connections/{id}/refresh {"if_generation"?: N}.
func (s *Server) serveRefresh(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodPost) {
		return
	}
	var req localclient.RefreshRequest
	if !decodeBody(w, r, &req, true) {
		return
	}
	id := r.PathValue("id")
	s.logActivity(r, id, "refresh")
	c, err := s.agent.Refresh(r.Context(), id, req.IfGeneration)
	if err != nil {
		writeAgentError(w, err)
		return
	}
	writeJSON(w, wireConnection(c))
}
