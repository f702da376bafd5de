package localapi

import (
	"fmt"
	"net/http"
	"path/filepath"

	"github.com/tokentray/tokentray/internal/approval"
	"github.com/tokentray/tokentray/localclient"
)

// serveApps: GET /v1/apps — the app grants, oldest first.
func (s *Server) serveApps(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	grants := s.agent.AppGrants()
	out := make([]localclient.App, len(grants))
	for i, g := range grants {
		out[i] = localclient.App{ID: g.ID, App: g.App, Exe: g.Exe, Script: g.Script, Connection: g.Connection,
			Decision: string(g.Decision), Created: g.Created.UTC(), LastUsed: g.LastUsed.UTC(), Uses: g.Uses,
			Expires: g.Expires.UTC()}
	}
	writeJSON(w, map[string]any{"apps": out})
}

// serveApp: DELETE /v1/apps/{id} — revokes a grant (an always or a deny):
// the app is asked again. Revoking only ever takes a permission away.
func (s *Server) serveApp(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodDelete) {
		return
	}
	id := r.PathValue("id")
	s.logActivity(r, "", "app_revoke")
	if err := s.agent.RevokeApp(id); err != nil {
		writeAgentError(w, err)
		return
	}
	writeJSON(w, map[string]any{"revoked": id})
}

// serveProposals: POST /v1/apps/proposals {"exe"|"script","connection"} →
// 202: a proposal for a human to confirm in the tray, never a grant. The
// path must name an app as it would run (appid.IdentifyProposal, with the
// proposer's PATH for a script run through env).
func (s *Server) serveProposals(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodPost) {
		return
	}
	var req localclient.ProposalRequest
	if !decodeBody(w, r, &req, false) {
		return
	}
	path := req.Exe + req.Script
	if (req.Exe == "") == (req.Script == "") || !filepath.IsAbs(path) {
		writeError(w, localclient.CodeBadRequest, `a proposal needs one of "exe" and "script", an absolute path`)
		return
	}
	app, err := s.ids.IdentifyProposal(path, s.proposerEnv(r))
	if err != nil {
		writeError(w, localclient.CodeBadRequest, fmt.Sprintf("%s does not name an app that can be approved: %v", path, err))
		return
	}
	p := approval.Proposal{Exe: app.Exe, Connection: req.Connection}
	if app.Script != "" {
		p = approval.Proposal{Script: app.Script, Connection: req.Connection}
	}
	s.logActivity(r, req.Connection, "app_propose")
	q, err := s.agent.ProposeApp(p)
	if err != nil {
		writeAgentError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	writeJSON(w, localclient.Proposal{ID: q.ID, App: app.Name, Exe: q.Exe, Script: q.Script, Connection: q.Connection,
		Created: q.Created.UTC(), Message: "proposed only: a human must confirm it in the tokentray window; nothing is granted until then"})
}

// proposerEnv is the environment of the process that sent r (for `tokentray
// approve`, the CLI, which has its caller's): the PATH a proposed script's
// "#!/usr/bin/env python3" runs with. nil when it cannot be read.
func (s *Server) proposerEnv(r *http.Request) []string {
	cp, _ := r.Context().Value(connPeerKey{}).(*connPeer)
	if cp == nil {
		return nil
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if cp.closed {
		return nil
	}
	cp.pin()
	if cp.pinErr != nil {
		return nil
	}
	env, err := cp.peer.Environ()
	if err != nil {
		return nil
	}
	return env
}
