package relay

import (
	"context"
	"time"

	"github.com/tokentray/tokentray/relayproto"
)

// Single-flight locks in the store: a lock expires lockTTL after its last renewal, so
// a replica that died during its provider call holds it at most that long; the holder
// renews it every lockTTL/3 while its call runs.
const (
	lockTTL      = 10 * time.Second
	lockRenew    = lockTTL / 3
	pollFirst    = 5 * time.Millisecond
	pollMax      = 100 * time.Millisecond
	purposeReply = "answer" // a refresh answer sealed for the store; never leaves the relay
)

// once records key of kind until the given time and reports whether it was new: in the
// shared store when there is one (a fault is store_unavailable: nothing is done), else
// in set, this process's memory.
func (s *Server) once(ctx context.Context, kind string, set *expiringSet, key [32]byte, until time.Time) (bool, *apiError) {
	now := s.now()
	if s.store == nil {
		return set.add(key, until, now), nil
	}
	ok, err := s.store.once(ctx, kind, key, until.Sub(now))
	if err != nil {
		return false, storeUnavailable()
	}
	return ok, nil
}

// sharedRefresh is the one flight of a refresh of key across replicas: the answer kept
// in the store if there is one, else the provider call under the store's lock for key;
// a replica that finds the lock taken waits for the holder's answer, or for the lock to
// be free again (the holder failed or died). It gives up after providerCallCap +
// lockTTL, as a slow provider.
func (s *Server) sharedRefresh(c *providerClient, key [32]byte, rb *refreshBlob) (*relayproto.TokenAnswer, *apiError) {
	ctx := context.Background()
	deadline := time.Now().Add(s.cfg.providerCallCap() + lockTTL)
	owner := randomString(16)
	poll := pollFirst
	for {
		sealed, locked, err := s.store.answerOrLock(ctx, key, owner, lockTTL)
		switch {
		case err != nil:
			return nil, storeUnavailable()
		case sealed != "":
			return s.openAnswer(c, sealed)
		case locked:
			return s.refreshLocked(ctx, c, key, rb, owner)
		case time.Now().After(deadline):
			return nil, errSlowProvider()
		}
		select {
		case <-time.After(poll):
		case <-s.stopping: // shutting down: the lock's holder answers the retry
			return nil, errSlowProvider()
		}
		poll = min(2*poll, pollMax)
	}
}

// refreshLocked makes the provider call while owner holds key's lock, then keeps the
// answer in the store, sealed, for the answer window and releases the lock in one step.
// A failed call releases the lock for the next try.
func (s *Server) refreshLocked(ctx context.Context, c *providerClient, key [32]byte, rb *refreshBlob, owner string) (*relayproto.TokenAnswer, *apiError) {
	stop := s.keepLock(ctx, key, owner)
	a, e := s.callProviderRefresh(c, rb)
	stop()
	var sealed string
	if e == nil {
		var err error
		if sealed, err = s.sealer.sealJSON(purposeReply, c.cfg.ID, c.cfg.ClientID, a); err != nil {
			s.log.Error("seal refresh answer", "provider", c.cfg.ID, "err", err)
		}
	}
	if sealed == "" {
		if err := s.store.unlock(ctx, key, owner); err != nil {
			s.log.Warn("refresh lock not released; it expires by itself", "provider", c.cfg.ID)
		}
		return a, e
	}
	if err := s.store.putAnswer(ctx, key, owner, sealed, s.cfg.RefreshAnswerWindow); err != nil {
		// The waiting devices still get it; a retry after a lost answer would not.
		s.log.Error("refresh answer not kept in the shared store", "provider", c.cfg.ID)
	}
	return a, nil
}

// openAnswer opens an answer kept in the store.
func (s *Server) openAnswer(c *providerClient, sealed string) (*relayproto.TokenAnswer, *apiError) {
	var a relayproto.TokenAnswer
	if err := s.sealer.openJSON(purposeReply, c.cfg.ID, c.cfg.ClientID, sealed, &a); err != nil {
		// Sealed under a key this replica no longer has, or not ours: never served.
		s.log.Error("refresh answer in the shared store does not open", "provider", c.cfg.ID)
		return nil, internalErr()
	}
	return &a, nil
}

// keepLock renews owner's lock of key every lockRenew until the returned stop is
// called.
func (s *Server) keepLock(ctx context.Context, key [32]byte, owner string) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(lockRenew)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if held, err := s.store.renew(ctx, key, owner, lockTTL); err == nil && !held {
					s.log.Warn("refresh lock lost during the provider call")
				}
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// allowClient takes a token from the client's rate_per_minute bucket: the store's when
// there is one, this process's when there is none or the store fails (no request is
// refused for a store fault here; those that must happen once are refused later).
func (s *Server) allowClient(ctx context.Context, key string, now time.Time) (bool, time.Duration) {
	if s.store != nil {
		interval := time.Minute / time.Duration(s.cfg.RatePerMinute)
		ok, wait, err := s.store.allow(ctx, "ip:"+key, interval, s.cfg.RatePerMinute)
		if err == nil {
			return ok, wait
		}
	}
	return s.limiters.allow(key, now)
}
