package relay

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"github.com/tokentray/tokentray/relayproto"
)

// refreshBlob is the provider's refresh token bound to one device key (docs/relay.md §3).
type refreshBlob struct {
	Token     string `json:"rt"`
	DeviceKey string `json:"dk"`
	Issued    int64  `json:"iat"`
	Scope     string `json:"sc,omitempty"`
}

// answer turns a provider's token response into the device's answer, sealing the refresh
// token (or, when the provider did not rotate it, the old one) to deviceKey.
func (s *Server) answer(c *providerClient, tr *tokenResponse, deviceKey, oldRefresh, scope string) (*relayproto.TokenAnswer, error) {
	expires, err := strconv.ParseInt(string(tr.ExpiresIn), 10, 64)
	if err != nil || expires <= 0 {
		expires = int64(time.Duration(c.cfg.DefaultLifetime) / time.Second)
	}
	if tr.Scope != "" {
		scope = tr.Scope
	}
	a := &relayproto.TokenAnswer{AccessToken: tr.AccessToken, TokenType: tr.TokenType, ExpiresIn: expires, Scope: scope}
	rt := tr.RefreshToken
	if rt == "" {
		rt = oldRefresh // RFC 6749 §6: the old refresh token stays valid
	}
	if rt != "" {
		blob, err := s.sealer.sealJSON(purposeRefresh, c.cfg.ID, c.cfg.ClientID, refreshBlob{
			Token: rt, DeviceKey: deviceKey, Issued: s.now().Unix(), Scope: scope,
		})
		if err != nil {
			return nil, err
		}
		a.Refresh = blob
	}
	return a, nil
}

// serveRedeem opens a result for the holder of its PKCE verifier (RFC 7636 §4.6). A wrong
// verifier does not spend the result; a right one spends it, so each result answers once.
func (s *Server) serveRedeem(w http.ResponseWriter, r *http.Request) {
	var req relayproto.RedeemRequest
	if e := decodeBody(w, r, &req); e != nil {
		writeError(w, e)
		return
	}
	if req.Result == "" || req.CodeVerifier == "" {
		writeError(w, badRequest("invalid_request", "result and code_verifier are required"))
		return
	}
	var res result
	var c *providerClient
	for _, pc := range s.order {
		if s.sealer.openJSON(purposeResult, pc.cfg.ID, pc.cfg.ClientID, req.Result, &res) == nil {
			c = pc
			break
		}
	}
	if c == nil {
		writeError(w, badRequest("invalid_result", "the result does not open; connect again"))
		return
	}
	now := s.now()
	if now.Unix() >= res.Expires {
		writeError(w, badRequest("expired_result", "the result is older than 2 minutes; connect again"))
		return
	}
	sum := sha256.Sum256([]byte(req.CodeVerifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(got), []byte(res.Challenge)) != 1 {
		s.log.Info("redeem refused", "provider", c.cfg.ID, "error", "invalid_verifier")
		writeError(w, badRequest("invalid_verifier", "code_verifier does not match the code_challenge"))
		return
	}
	fresh, e := s.once(r.Context(), onceResult, s.spent, sha256.Sum256([]byte(req.Result)), time.Unix(res.Expires, 0))
	if e != nil {
		s.log.Warn("redeem refused", "provider", c.cfg.ID, "error", e.Code)
		writeError(w, e)
		return
	}
	if !fresh {
		s.log.Info("redeem refused", "provider", c.cfg.ID, "error", "result_used")
		writeError(w, badRequest("result_used", "the result was already redeemed; connect again"))
		return
	}
	s.log.Info("redeemed", "provider", c.cfg.ID)
	writeJSON(w, http.StatusOK, res.Answer)
}

// openRefresh finds the provider, opens its refresh blob and checks the proof for op.
func (s *Server) openRefresh(ctx context.Context, providerID, blob string, p *relayproto.Proof, op string) (*providerClient, *refreshBlob, *apiError) {
	c, ok := s.providers[providerID]
	if !ok {
		return nil, nil, badRequest("unknown_provider", "the relay has no provider with this id")
	}
	if blob == "" {
		return nil, nil, badRequest("invalid_request", "refresh is required")
	}
	var rb refreshBlob
	if s.sealer.openJSON(purposeRefresh, c.cfg.ID, c.cfg.ClientID, blob, &rb) != nil {
		return nil, nil, badRequest("invalid_refresh", "the refresh blob does not open for this provider; connect again")
	}
	key, ok := decodeDeviceKey(rb.DeviceKey)
	if !ok {
		return nil, nil, internalErr()
	}
	seen := func(sig [32]byte, until time.Time) (bool, *apiError) {
		return s.once(ctx, onceProof, s.proofs, sig, until)
	}
	if e := checkProof(p, op, blob, key, s.now(), seen); e != nil {
		return nil, nil, e
	}
	return c, &rb, nil
}

// serveRefresh refreshes through the provider. The provider call runs on a context of
// its own, bounded by providerCallCap, to its end even if the device hangs up or
// provider_timeout answered it 502 first; its answer is kept for the answer window for
// a retry with a new proof, and concurrent refreshes of one blob share one call
// (docs/relay.md §3).
func (s *Server) serveRefresh(w http.ResponseWriter, r *http.Request) {
	var req relayproto.RefreshRequest
	if e := decodeBody(w, r, &req); e != nil {
		writeError(w, e)
		return
	}
	c, rb, e := s.openRefresh(r.Context(), req.Provider, req.Refresh, req.Proof, relayproto.OpRefresh)
	if e != nil {
		s.log.Info("refresh refused", "provider", s.knownID(req.Provider), "error", e.Code)
		writeError(w, e)
		return
	}
	key := sha256.Sum256([]byte(req.Refresh))
	answer, e := s.refreshes.do(r.Context(), key, s.cfg.ProviderTimeout, func() (*relayproto.TokenAnswer, *apiError) {
		return s.refreshOnce(c, key, rb)
	})
	if e != nil {
		s.log.Info("refresh failed", "provider", c.cfg.ID, "error", e.Code, "source", e.Source)
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, answer)
}

// refreshOnce is the one flight of a refresh of the blob whose SHA256 is key.
func (s *Server) refreshOnce(c *providerClient, key [32]byte, rb *refreshBlob) (*relayproto.TokenAnswer, *apiError) {
	if s.store != nil {
		return s.sharedRefresh(c, key, rb)
	}
	return s.callProviderRefresh(c, rb)
}

// callProviderRefresh makes the provider call of a refresh and seals its answer. It
// runs on no request's context, bounded by providerCallCap.
func (s *Server) callProviderRefresh(c *providerClient, rb *refreshBlob) (*relayproto.TokenAnswer, *apiError) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.providerCallCap())
	defer cancel()
	tr, e := c.refresh(ctx, rb.Token)
	if e != nil {
		return nil, e
	}
	a, err := s.answer(c, tr, rb.DeviceKey, rb.Token, rb.Scope)
	if err != nil {
		s.log.Error("seal refresh", "provider", c.cfg.ID, "err", err)
		return nil, internalErr()
	}
	s.log.Info("refreshed at provider", "provider", c.cfg.ID)
	return a, nil
}

// serveRevoke revokes the blob's refresh token at the provider per its revoke_style.
// The provider call runs to its end even when provider_timeout answered the device 502
// first, so a slow provider still revokes; the device's retry revokes again, which a
// provider accepts (RFC 7009 §2.2).
func (s *Server) serveRevoke(w http.ResponseWriter, r *http.Request) {
	var req relayproto.RevokeRequest
	if e := decodeBody(w, r, &req); e != nil {
		writeError(w, e)
		return
	}
	if c, ok := s.providers[req.Provider]; ok {
		switch {
		case c.cfg.RevokeURL == "":
			writeError(w, badRequest("revoke_unsupported", "this provider has no revoke endpoint"))
			return
		case c.cfg.RevokeStyle == relayproto.RevokeDoorkeeper && req.AccessToken == "":
			writeError(w, badRequest("invalid_request", "access_token is required to revoke at this provider"))
			return
		}
	}
	c, rb, e := s.openRefresh(r.Context(), req.Provider, req.Refresh, req.Proof, relayproto.OpRevoke)
	if e != nil {
		s.log.Info("revoke refused", "provider", s.knownID(req.Provider), "error", e.Code)
		writeError(w, e)
		return
	}
	e = s.detached(r.Context(), func(ctx context.Context) *apiError {
		return c.revoke(ctx, rb.Token, req.AccessToken)
	})
	if e != nil {
		s.log.Info("revoke failed", "provider", c.cfg.ID, "error", e.Code, "source", e.Source)
		writeError(w, e)
		return
	}
	s.log.Info("revoked at provider", "provider", c.cfg.ID)
	w.WriteHeader(http.StatusNoContent)
}

// knownID returns id when it names a configured provider, else "unknown": request text
// is never logged as is, since a confused client may send a secret in any field.
func (s *Server) knownID(id string) string {
	if _, ok := s.providers[id]; ok {
		return id
	}
	return "unknown"
}

// detached runs call on a context of its own, bounded by providerCallCap, and waits for
// it at most provider_timeout: then the answer is errSlowProvider and call goes on to
// its end. A caller whose ctx ends gets a 500 (nobody reads it).
func (s *Server) detached(ctx context.Context, call func(context.Context) *apiError) *apiError {
	done := make(chan *apiError, 1)
	s.calls.Add(1)
	go func() {
		defer s.calls.Done()
		cctx, cancel := context.WithTimeout(context.Background(), s.cfg.providerCallCap())
		defer cancel()
		done <- call(cctx)
	}()
	timer := time.NewTimer(s.cfg.ProviderTimeout)
	defer timer.Stop()
	select {
	case e := <-done:
		return e
	case <-timer.C:
		return errSlowProvider()
	case <-ctx.Done():
		return internalErr()
	}
}
