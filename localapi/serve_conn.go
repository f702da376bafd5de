package localapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/tokentray/tokentray/agent"
)

// wireConnection maps the agent's connection to the API's.
func wireConnection(c agent.Connection) Connection {
	return Connection{
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
			writeError(w, CodeBadRequest, fmt.Sprintf("request body is larger than %d bytes", tooBig.Limit))
			return false
		}
		writeError(w, CodeBadRequest, "request body is not valid JSON: "+err.Error())
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
	out := make([]Connection, len(conns))
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
		var p ConnectionPatch
		if !decodeBody(w, r, &p, false) {
			return
		}
		s.record(r, id, "update")
		c, err := s.agent.UpdateConnection(id, agent.ConnectionPatch{Label: p.Label, RawKeys: p.RawKeys, Default: p.Default})
		if err != nil {
			writeAgentError(w, err)
			return
		}
		writeJSON(w, wireConnection(c))
	case http.MethodDelete:
		s.record(r, id, "revoke")
		res, err := s.agent.Revoke(r.Context(), id)
		if err != nil {
			writeAgentError(w, err)
			return
		}
		writeJSON(w, RevokeResult{RevokedAtProvider: res.RevokedAtProvider, Message: res.Message})
	}
}

// serveToken: GET /v1/connections/{id}/token[?min_valid=SECONDS]. The hot
// path: no enclave is opened, the key is read from locked memory.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	id := r.PathValue("id")
	var minValid time.Duration
	if v := r.URL.Query().Get("min_valid"); v != "" {
		secs, err := strconv.ParseInt(v, 10, 32)
		if err != nil || secs < 0 {
			writeError(w, CodeBadRequest, fmt.Sprintf("min_valid must be a whole number of seconds, not %q", v))
			return
		}
		minValid = time.Duration(secs) * time.Second
	}
	s.record(r, id, "token")
	k, err := s.agent.Token(r.Context(), id, minValid)
	if err != nil {
		writeAgentError(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, Token{
		TokenType: k.TokenType, ExpiresAt: k.ExpiresAt.UTC(), Scopes: nonNil(k.Scopes), Generation: k.Generation,
		AccessKey: k.AccessKey, SecretKey: k.SecretKey, AccessToken: k.AccessToken,
	})
}

// serveSign: POST /v1/connections/{id}/sign.
func (s *Server) serveSign(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodPost) {
		return
	}
	var req SignRequest
	if !decodeBody(w, r, &req, false) {
		return
	}
	if req.Method == "" || req.Path == "" {
		writeError(w, CodeBadRequest, `sign needs "method" and "path"`)
		return
	}
	id := r.PathValue("id")
	s.recordCall(r, id, "sign", req.Method, req.Path)
	signed, _, err := s.agent.Sign(r.Context(), id, req.Method, req.Path, req.Params)
	if err != nil {
		writeAgentError(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, Signed{AccessKey: signed.AccessKey, Tonce: signed.Tonce, Signature: signed.Signature, Query: signed.Query})
}

// serveRefresh: POST /v1/connections/{id}/refresh {"if_generation"?: N}.
func (s *Server) serveRefresh(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodPost) {
		return
	}
	var req RefreshRequest
	if !decodeBody(w, r, &req, true) {
		return
	}
	id := r.PathValue("id")
	s.record(r, id, "refresh")
	c, err := s.agent.Refresh(r.Context(), id, req.IfGeneration)
	if err != nil {
		writeAgentError(w, err)
		return
	}
	writeJSON(w, wireConnection(c))
}
