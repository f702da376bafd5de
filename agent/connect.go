package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/tokentray/tokentray/oauthflow"
)

// ConnectRequest asks for a new connection.
type ConnectRequest struct {
	Provider string
	Scopes   []string          // none: the provider's defaults
	Fields   map[string]string // the provider's extra Connect fields
}

// Connect runs the flow for a new connection: the authorize URL goes to onURL
// (if set) and the opener as soon as it is known; Connect returns when the
// user has approved or refused in the browser, or the flow timed out.
// Connecting an account that is already connected updates that connection
// (new keys, scopes, fields) and never duplicates it.
func (a *Agent) Connect(ctx context.Context, req ConnectRequest, onURL func(string)) (Connection, error) {
	p, local, err := a.provider(ctx, req.Provider)
	if err != nil {
		return Connection{}, err
	}
	scopes, err := chooseScopes(p, req.Scopes)
	if err != nil {
		return Connection{}, err
	}
	fields, err := checkFields(p, req.Fields)
	if err != nil {
		return Connection{}, err
	}
	if p.APIBase, err = renderAPIBase(p, fields); err != nil {
		return Connection{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, a.cfg.ConnectTimeout)
	defer cancel()

	var tok *oauthflow.Token
	if local {
		tok, err = a.connectDirect(ctx, p, scopes, onURL)
	} else if a.relay == nil {
		err = ErrNoRelay
	} else {
		tok, err = oauthflow.ConnectRelay(ctx, oauthflow.RelayConnect{
			Relay: a.relay, Provider: p, Scopes: scopes, Fields: fields,
			Open: a.cfg.Open, OnURL: onURL, Timeout: a.cfg.ConnectTimeout,
		})
	}
	if err != nil {
		return Connection{}, fmt.Errorf("connect %s: %w", p.Name, err)
	}
	me, err := oauthflow.FetchMe(ctx, a.hc, p, tok, fields, a.signer)
	if err != nil {
		// A grant the agent cannot name must not linger at the provider.
		a.queueRevocation(connRecord{ID: "unnamed-" + randomHex(4), Provider: p.ID, Local: local, Profile: p}, tok)
		return Connection{}, fmt.Errorf("connect %s: identify the account: %w", p.Name, err)
	}
	return a.adopt(ctx, p, local, scopes, fields, tok, me)
}

// adopt stores a new grant: as a new connection, or, for an account already
// connected, in place of that connection's old grant (which is revoked).
// The old grant is the one a refresh of the connection leaves: adopt waits
// for a refresh in flight, and resolves a journaled one first, as Revoke
// does. Revoking the blob a refresh carries would kill the grant under it
// (the provider then refuses the refresh and the connection, holding the new
// key, would say needs_reconnect), and a refresh answer applied after the
// update would put the old grant back and leave the new one alive at the
// provider, in no record.
func (a *Agent) adopt(ctx context.Context, p oauthflow.Provider, local bool, scopes []string, fields map[string]string, tok *oauthflow.Token, me oauthflow.Me) (Connection, error) {
	resolved := false
	c, fresh, err := a.claim(p.ID, me.Account)
	for err == nil && !fresh {
		if f := c.flight; f != nil {
			c.mu.Unlock()
			if a.cfg.adoptWaits != nil {
				a.cfg.adoptWaits()
			}
			<-f.done // without ctx: the new grant must be stored or revoked; a refresh ends within refreshTimeout
		} else if !resolved && !c.rec.RefreshSent.IsZero() && !c.rec.NeedsReconnect {
			c.mu.Unlock()
			resolved = true // once: on failure the old blob is revoked as it is, as Revoke does
			a.refresh(ctx, c, nil)
		} else {
			break
		}
		c, fresh, err = a.claim(p.ID, me.Account)
	}
	if err != nil {
		// Close won: the grant is not stored, and must not linger at the
		// provider. Its revocation is journaled, so the next start sends it.
		a.queueRevocation(connRecord{ID: "unadopted-" + randomHex(4), Provider: p.ID, Local: local, Profile: p}, tok)
		return Connection{}, fmt.Errorf("connect %s: %w", p.Name, err)
	}
	defer c.mu.Unlock()
	if !fresh && c.refresh != nil {
		a.queueRevocation(c.rec, a.tokenOf(c))
	}
	c.rec.Local, c.rec.Profile, c.rec.Account = local, p, me.Account
	if !c.rec.LabelByUser {
		c.rec.Label = me.Label
	}
	c.rec.Fields = fields
	c.rec.ScopesRequested = slices.Clone(scopes)
	c.rec.ScopesGranted = tok.ScopesGranted
	c.rec.NeedsReconnect = false
	c.failures, c.lastErr = 0, ""
	a.applyToken(c, tok)
	a.log.Info("connected", "connection", c.rec.ID, "provider", p.ID, "scopes", c.rec.ScopesGranted)
	a.emit(EventConnected, c)
	a.wake()
	return c.snapshot(a.clock.Now()), nil
}

// claim returns, locked, the connection of provider's account, or a new one,
// listed and locked, when there is none (fresh). Once Close has begun it
// returns errStopping: Close marks every connection removed, in memory only,
// so a new one listed then would be a second record of the account in the
// vault at the next start.
func (a *Agent) claim(provider, account string) (c *conn, fresh bool, err error) {
	// Agent.mu, then conn.mu (the lock order); the match stays locked, so a
	// revocation cannot remove it between the match and the update.
	a.mu.Lock()
	defer a.mu.Unlock()
	a.life.Lock()
	stopping := a.stopping
	a.life.Unlock()
	if stopping {
		return nil, false, errStopping
	}
	for _, x := range a.conns {
		x.mu.Lock()
		if !x.removed && x.rec.Provider == provider && x.rec.Account == account {
			return x, false, nil
		}
		x.mu.Unlock()
	}
	// Locked before it is listed, so nobody sees it without its keys.
	c = &conn{rec: connRecord{ID: provider + "-" + randomHex(4), Provider: provider, RawKeys: true}}
	c.mu.Lock()
	a.conns[c.rec.ID] = c
	return c, true, nil
}

// tokenOf returns the connection's current secrets as a token, for a
// revocation. c.mu must be held.
func (a *Agent) tokenOf(c *conn) *oauthflow.Token {
	tok := &oauthflow.Token{TokenType: c.rec.Profile.TokenFormat}
	if c.access != nil {
		tok.AccessToken = strings.Clone(c.access.String()) // a Go string copy: the relay client takes strings
	}
	tok.RefreshCredential, _ = readRefresh(c)
	return tok
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
