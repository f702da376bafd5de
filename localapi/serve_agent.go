package localapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/tokentray/tokentray/agent"
	"github.com/tokentray/tokentray/localclient"
)

// serveStatus: GET /v1/status.
func (s *Server) serveStatus(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	st := s.agent.Status()
	writeJSON(w, localclient.Status{Version: st.Version, PID: os.Getpid(), Connections: st.Connections, PendingRevocations: st.PendingRevocations})
}

// serveProviders: GET /v1/providers — the relay's list (cached while the
// relay is down) plus the local providers.
func (s *Server) serveProviders(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	list, err := s.agent.Providers(r.Context())
	if err != nil {
		writeAgentError(w, err)
		return
	}
	out := make([]localclient.Provider, 0, len(list))
	for _, p := range list {
		wp := localclient.Provider{
			ID: p.ID, Name: p.Name, TokenFormat: p.TokenFormat,
			DefaultLifetime: time.Duration(p.DefaultLifetime).String(),
			APIBase:         p.APIBase, MePath: p.MePath, Label: p.Label, AccountField: p.AccountField,
			AllowedHosts: nonNil(p.AllowedHosts), DefaultParams: p.DefaultParams,
			Scopes: []localclient.Scope{}, Fields: []localclient.Field{}, Local: s.agent.IsLocal(p.ID),
		}
		if wp.DefaultParams == nil {
			wp.DefaultParams = map[string]string{}
		}
		for _, sc := range p.Scopes {
			wp.Scopes = append(wp.Scopes, localclient.Scope{Name: sc.Name, Description: sc.Description, Default: sc.Default, Required: sc.Required})
		}
		for _, f := range p.Fields {
			wp.Fields = append(wp.Fields, localclient.Field{Name: f.Name, Label: f.Label, Kind: f.Kind, Options: f.Options, Required: f.Required, Default: f.Default})
		}
		out = append(out, wp)
	}
	writeJSON(w, map[string]any{"providers": out})
}

// serveConnect: POST /v1/connect — a stream of JSON lines: the authorize URL
// as soon as it is known, then the connection or the error. A client that
// hangs up, or the agent shutting down, cancels the flow.
func (s *Server) serveConnect(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodPost) {
		return
	}
	var req localclient.ConnectRequest
	if !decodeBody(w, r, &req, false) {
		return
	}
	if req.Provider == "" {
		writeError(w, localclient.CodeBadRequest, `connect needs "provider"`)
		return
	}
	s.logActivity(r, req.Provider, "connect")
	ctx, cancel := streamContext(r)
	defer cancel()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	rc := http.NewResponseController(w)
	enc := json.NewEncoder(w)
	started := false
	line := func(l localclient.ConnectLine) {
		if !started {
			w.WriteHeader(http.StatusOK)
			started = true
		}
		enc.Encode(l)
		rc.Flush()
	}
	conn, err := s.agent.Connect(ctx, agent.ConnectRequest{
		Provider: req.Provider, Scopes: req.Scopes, Fields: req.Fields,
	}, func(u string) { line(localclient.ConnectLine{AuthorizeURL: u}) })
	switch {
	case err != nil && !started:
		// Refused before the flow began: a plain error answer with its status.
		writeAgentError(w, err)
	case err != nil:
		line(localclient.ConnectLine{Error: &localclient.ErrorBody{Code: codeOf(err), Message: err.Error()}})
	default:
		wc := wireConnection(conn)
		line(localclient.ConnectLine{Connection: &wc})
	}
}

// serveActivity: GET /v1/activity, newest first.
func (s *Server) serveActivity(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	acts := s.agent.Activity()
	out := make([]localclient.Activity, len(acts))
	for i, a := range acts {
		out[i] = wireActivity(a)
	}
	writeJSON(w, map[string]any{"activity": out})
}

// serveEvents: GET /v1/events — server-sent events until the client leaves.
// A comment every 25 s keeps the stream alive and finds dead clients. A
// client that falls too far behind is sent "event: resync" without data,
// and the stream ends: it missed events, and loads the state again.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	events, unsubscribe := s.agent.Subscribe()
	defer unsubscribe()
	ctx, cancel := streamContext(r)
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	rc.Flush()
	ping := time.NewTicker(25 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
		case ev, ok := <-events:
			if !ok {
				return
			}
			if ev.Type == agent.EventResync {
				fmt.Fprint(w, "event: resync\n\n")
				rc.Flush()
				return
			}
			var data []byte
			if ev.Activity != nil {
				data, _ = json.Marshal(wireActivity(*ev.Activity))
			} else {
				data, _ = json.Marshal(wireConnection(ev.Connection))
			}
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.Type, data)
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// serveSettings: GET and PATCH /v1/settings.
func (s *Server) serveSettings(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodPatch) {
		return
	}
	if r.Method == http.MethodPatch {
		var p struct {
			localclient.SettingsPatch
			ApproveApps *bool `json:"approve_apps"`
		}
		if !decodeBody(w, r, &p, false) {
			return
		}
		if p.ApproveApps != nil {
			s.logActivity(r, "", "settings")
			writeError(w, localclient.CodeForbidden, "only the tray app's window can change approve_apps; no socket call can")
			return
		}
		var patch agent.SettingsPatch
		if p.RefreshMargin != nil {
			d, err := time.ParseDuration(*p.RefreshMargin)
			if err != nil {
				writeError(w, localclient.CodeBadRequest, fmt.Sprintf("refresh_margin must be a Go duration such as \"10m\", not %q", *p.RefreshMargin))
				return
			}
			patch.RefreshMargin = &d
		}
		patch.Autostart = p.Autostart
		s.logActivity(r, "", "settings")
		if _, err := s.agent.UpdateSettings(patch); err != nil {
			writeAgentError(w, err)
			return
		}
	}
	st := s.agent.Settings()
	writeJSON(w, localclient.Settings{RefreshMargin: st.RefreshMargin.String(), Autostart: st.Autostart, ApproveApps: st.ApproveApps})
}
