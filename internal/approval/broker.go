package approval

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/tokentray/tokentray/internal/appid"
)

// Prompt is a question waiting for the human: what the tray shows.
type Prompt struct {
	ID        string
	Request   Request
	Created   time.Time
	Waiting   int           // requests sharing this prompt
	Changed   bool          // the app had a grant for this connection with other content
	Grantable bool          // "Always" would create a grant (else it means once)
	GrantTTL  time.Duration // how long an "Always" would last; 0: until revoked
}

// prompt is a Prompt with the waiters' rendezvous.
type prompt struct {
	Prompt
	share    string
	done     chan struct{} // closed once answer or abandoned is set
	answer   Answer
	abandon  string // why the prompt ended without an answer
	resolved bool
}

// grantKey is an app key × connection.
type grantKey struct{ key, conn string }

// Broker holds the grants, the prompts and the proposals. It is safe for
// concurrent use.
type Broker struct {
	cfg Config

	mu        sync.Mutex            // guards the fields below
	grants    map[grantKey]*Grant   // by app key × connection
	prompts   map[string]*prompt    // by share key (identical requests share one)
	proposals []Proposal            // oldest first
	subs      map[int]chan struct{} // answerers, told when prompts or proposals change
	nextSub   int
}

// New returns a broker holding grants (as MarshalGrants stored them).
func New(cfg Config, grants []Grant) (*Broker, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.TerminalTTL <= 0 {
		cfg.TerminalTTL = 4 * time.Hour
	}
	if cfg.MaxProposals <= 0 {
		cfg.MaxProposals = 32
	}
	if cfg.MaxPrompts <= 0 {
		cfg.MaxPrompts = 64
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	b := &Broker{cfg: cfg, grants: map[grantKey]*Grant{}, prompts: map[string]*prompt{}, subs: map[int]chan struct{}{}}
	if err := validGrants(grants); err != nil {
		return nil, err
	}
	for _, g := range grants {
		b.grants[grantKey{g.Key, g.Connection}] = &g
	}
	return b, nil
}

// Check decides req: nil lets it through; an *Error refuses it. Without a
// grant it waits up to Config.Timeout for an answer when an answerer is
// subscribed, and answers ErrApprovalRequired at once when none is.
// Identical requests (same app key × connection, whatever the operation)
// share one prompt. ctx ends the wait early (its error is returned).
func (b *Broker) Check(ctx context.Context, req Request) error {
	now := b.cfg.Clock.Now()
	var events []Event
	b.mu.Lock()
	if req.App.Grantable() {
		k := grantKey{req.App.Key, req.Connection}
		if g := b.grants[k]; g != nil {
			if !g.Expires.IsZero() && !now.Before(g.Expires) {
				delete(b.grants, k)
				events = append(events, b.event(now, EventRevoked, req))
			} else {
				if g.Decision == Deny {
					b.mu.Unlock()
					b.emit(append(events, b.event(now, EventDenied, req)), false)
					return denied(req)
				}
				g.Uses++
				g.LastUsed = now
				b.mu.Unlock()
				b.emit(append(events, b.event(now, EventUsed, req)), true)
				return nil
			}
		}
	}
	if len(b.subs) == 0 {
		b.mu.Unlock()
		b.emit(append(events, b.event(now, EventApprovalRequired, req)), len(events) > 0)
		return required(req, reasonNoTray)
	}
	if err := ctx.Err(); err != nil {
		b.mu.Unlock()
		b.emit(events, len(events) > 0)
		return err
	}
	p := b.join(req, now)
	if p == nil {
		b.mu.Unlock()
		b.emit(append(events, b.event(now, EventApprovalRequired, req)), len(events) > 0)
		return required(req, "too many requests are waiting for the tray")
	}
	b.mu.Unlock()
	b.emit(events, len(events) > 0)
	b.notify()

	timer, stop := b.cfg.Clock.NewTimer(b.cfg.Timeout)
	defer stop()
	select {
	case <-p.done:
		return b.result(p, req)
	case <-timer:
		if b.leave(p) {
			return b.result(p, req)
		}
		b.emit([]Event{b.event(b.cfg.Clock.Now(), EventApprovalRequired, req)}, false)
		return required(req, fmt.Sprintf("no answer within %s", b.cfg.Timeout))
	case <-ctx.Done():
		if b.leave(p) {
			return b.result(p, req)
		}
		return ctx.Err()
	}
}

// shareKey is what makes two requests identical: the same app and
// connection. Apps without a key share only with their own process.
func shareKey(req Request) string {
	if req.App.Grantable() {
		return "k\x00" + req.App.Key + "\x00" + req.Connection
	}
	return "p\x00" + strconv.Itoa(req.App.PID) + "\x00" + req.App.Exe + "\x00" + req.Connection
}

// join adds a waiter to the prompt for req, creating it; nil when that
// would pass Config.MaxPrompts. b.mu must be held.
func (b *Broker) join(req Request, now time.Time) *prompt {
	share := shareKey(req)
	p := b.prompts[share]
	if p == nil && len(b.prompts) >= b.cfg.MaxPrompts {
		return nil
	}
	if p == nil {
		p = &prompt{Prompt: Prompt{ID: newID(), Request: req, Created: now, Grantable: req.App.Grantable()}, share: share, done: make(chan struct{})}
		for _, g := range b.grants {
			if g.Connection == req.Connection && g.Key != req.App.Key && g.Exe == req.App.Exe && g.Script == req.App.Script && (g.Exe != "" || g.Script != "") {
				p.Changed = true
			}
		}
		if p.Grantable && req.App.Kind == appid.Terminal {
			p.GrantTTL = b.cfg.TerminalTTL
		}
		b.prompts[share] = p
	}
	p.Waiting++
	return p
}

// leave takes a waiter off p, withdrawing p when it was the last one, and
// reports whether p was answered meanwhile.
func (b *Broker) leave(p *prompt) bool {
	b.mu.Lock()
	if p.resolved {
		b.mu.Unlock()
		return true
	}
	p.Waiting--
	if p.Waiting == 0 {
		delete(b.prompts, p.share)
	}
	b.mu.Unlock()
	b.notify()
	return false
}

// result turns p's resolution into req's answer.
func (b *Broker) result(p *prompt, req Request) error {
	switch {
	case p.abandon != "":
		return required(req, p.abandon)
	case p.answer == AnswerDeny:
		return denied(req)
	default:
		return nil
	}
}

// Answer resolves the prompt id with a human's answer: every request waiting
// on it gets it. AnswerAlways grants the app the connection (for an app
// without a key it allows once); AnswerDeny remembers the refusal. Only the
// tray's buttons may call it.
func (b *Broker) Answer(id string, a Answer) error {
	if a != AnswerOnce && a != AnswerAlways && a != AnswerDeny {
		return fmt.Errorf("approval: answer %d: %w", a, ErrNotFound)
	}
	now := b.cfg.Clock.Now()
	b.mu.Lock()
	var p *prompt
	for _, x := range b.prompts {
		if x.ID == id {
			p = x
		}
	}
	if p == nil {
		b.mu.Unlock()
		return fmt.Errorf("approval: prompt %s: %w", id, ErrNotFound)
	}
	delete(b.prompts, p.share)
	req := p.Request
	kind, changed := EventAllowedOnce, false
	switch {
	case a == AnswerAlways && p.Grantable:
		g := b.put(req, Always, now)
		g.Uses += p.Waiting
		g.LastUsed = now
		if p.GrantTTL > 0 {
			g.Expires = now.Add(p.GrantTTL)
		}
		kind, changed = EventGranted, true
	case a == AnswerAlways:
		a = AnswerOnce
	case a == AnswerDeny:
		if p.Grantable {
			b.put(req, Deny, now)
			changed = true
		}
		kind = EventDenied
	}
	p.answer, p.resolved = a, true
	close(p.done)
	b.mu.Unlock()
	b.emit([]Event{b.event(now, kind, req)}, changed)
	b.notify()
	return nil
}

// put creates or replaces the grant for req. b.mu must be held.
func (b *Broker) put(req Request, d Decision, now time.Time) *Grant {
	g := &Grant{ID: newID(), Key: req.App.Key, App: req.App.Name, Exe: req.App.Exe, Script: req.App.Script,
		Connection: req.Connection, Decision: d, Created: now}
	b.grants[grantKey{g.Key, g.Connection}] = g
	return g
}

// Pending returns the prompts waiting for an answer, oldest first.
func (b *Broker) Pending() []Prompt {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Prompt, 0, len(b.prompts))
	for _, p := range b.prompts {
		out = append(out, p.Prompt)
	}
	slices.SortFunc(out, func(x, y Prompt) int { return x.Created.Compare(y.Created) })
	return out
}

// Subscribe makes the caller an answerer: while at least one is subscribed,
// requests without a grant wait for an answer instead of failing at once.
// The channel receives (coalesced) whenever prompts or proposals change; read
// Pending and Proposals then. cancel unsubscribes; when the last answerer
// leaves, every waiting request fails with ErrApprovalRequired.
func (b *Broker) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	b.mu.Lock()
	n := b.nextSub
	b.nextSub++
	b.subs[n] = ch
	b.mu.Unlock()
	var once sync.Once
	return ch, func() { once.Do(func() { b.unsubscribe(n) }) }
}

func (b *Broker) unsubscribe(n int) {
	b.mu.Lock()
	delete(b.subs, n)
	var abandoned []*prompt
	if len(b.subs) == 0 {
		for share, p := range b.prompts {
			delete(b.prompts, share)
			p.abandon, p.resolved = "the tray closed before answering", true
			close(p.done)
			abandoned = append(abandoned, p)
		}
	}
	b.mu.Unlock()
	now := b.cfg.Clock.Now()
	for _, p := range abandoned {
		b.emit([]Event{b.event(now, EventApprovalRequired, p.Request)}, false)
	}
}

// notify tells every answerer that something changed, without blocking.
func (b *Broker) notify() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ch := range b.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (b *Broker) event(now time.Time, k EventKind, req Request) Event {
	return Event{Time: now, Kind: k, App: req.App.Name, Key: req.App.Key, Connection: req.Connection}
}

// emit calls the audit hook for events and, when changed, OnChange. Never
// under b.mu.
func (b *Broker) emit(events []Event, changed bool) {
	if b.cfg.Audit != nil {
		for _, e := range events {
			b.cfg.Audit(e)
		}
	}
	if changed && b.cfg.OnChange != nil {
		b.cfg.OnChange()
	}
}

func required(req Request, reason string) error {
	return &Error{Code: CodeApprovalRequired, App: describe(req.App), Connection: req.Connection,
		Reason: reason, Hint: hint(req.App, req.Connection, reason)}
}

func denied(req Request) error {
	return &Error{Code: CodeDenied, App: describe(req.App), Connection: req.Connection}
}

// newID returns a random id for a prompt, a grant or a proposal.
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
