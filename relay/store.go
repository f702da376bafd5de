package relay

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Store limits: a store slower than storeTimeout counts as down, and a request that
// needs it is refused (fail closed).
const (
	storeTimeout     = 500 * time.Millisecond
	storeDialTimeout = time.Second
	// healthEvery is how long /healthz trusts its last ping of the store.
	healthEvery = time.Second
	// storePrefix starts every key the relay writes, so a store can be shared.
	storePrefix = "tokentray:"
)

// Kinds of "once" records in the store.
const (
	onceProof  = "proof"  // a proof's signature, while the proof is valid
	onceResult = "result" // a redeemed result, until it expires
	onceTicket = "ticket" // a ticket whose callback was served, until it expires
)

// sharedStore is the state replicas share in Redis 7 or Valkey: "once" records (SET NX
// with expiry), sealed refresh answers, single-flight locks and token buckets. Every
// call is bounded by storeTimeout and never retried: a fault is errStore to the caller,
// which fails closed. Keys hold hashes and sealed blobs only, never a token or key.
// It is safe for concurrent use.
type sharedStore struct {
	rdb     *redis.Client
	metrics *metrics
	log     *slog.Logger

	mu sync.Mutex
	// guarded by mu:
	checked time.Time // of the last health ping
	up      bool      // the last health ping's answer
}

// errStore wraps every store fault.
var errStore = errors.New("shared store unavailable")

// newSharedStore connects lazily to cfg.SharedStore; it does not dial.
func newSharedStore(cfg *Config, m *metrics, log *slog.Logger) (*sharedStore, error) {
	opts, err := redis.ParseURL(cfg.SharedStore)
	if err != nil {
		return nil, errors.New("shared_store: not a redis:// or rediss:// URL")
	}
	password, err := cfg.storePassword(log)
	if err != nil {
		return nil, err
	}
	opts.Password = password
	opts.DialTimeout = storeDialTimeout
	opts.ReadTimeout = storeTimeout
	opts.WriteTimeout = storeTimeout
	opts.PoolTimeout = storeTimeout
	opts.ContextTimeoutEnabled = true
	// A retried SET NX whose first reply was lost would report its own write as a
	// replay: one try, and the device retries with a fresh proof.
	opts.MaxRetries = -1
	opts.DisableIdentity = true // no CLIENT SETINFO: older Valkey and Redis refuse it
	opts.DialerRetries = 1      // a store that refuses is down now; the next request dials again
	redisLogOnce.Do(func() { redis.SetLogger(redisLog{log}) })
	return &sharedStore{rdb: redis.NewClient(opts), metrics: m, log: log}, nil
}

// redisLogOnce routes go-redis's own messages (a process-wide setting) into the first
// store's log, as JSON like every other line; they name addresses, never a password.
var redisLogOnce sync.Once

type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(_ context.Context, format string, v ...any) {
	l.log.Warn("shared store client", "detail", fmt.Sprintf(format, v...))
}

func (st *sharedStore) close() error {
	if err := st.rdb.Close(); err != nil {
		return fmt.Errorf("shared store close: %w", err)
	}
	return nil
}

// observe records one store call and turns its fault into errStore. redis.Nil (no
// such key) is not a fault.
func (st *sharedStore) observe(op string, start time.Time, err error) error {
	st.metrics.storeCall.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if err != nil && !errors.Is(err, redis.Nil) {
		st.metrics.storeErrors.WithLabelValues(op).Inc()
		st.log.Warn("shared store call failed", "op", op, "err", err)
		return fmt.Errorf("%w: %s: %w", errStore, op, err)
	}
	return nil
}

func storeKey(kind string, key [32]byte) string {
	return storePrefix + kind + ":" + hex.EncodeToString(key[:])
}

// once records key of kind for ttl and reports whether it was new.
func (st *sharedStore) once(ctx context.Context, kind string, key [32]byte, ttl time.Duration) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	start := time.Now()
	ok, err := st.rdb.SetNX(ctx, storeKey(kind, key), 1, max(ttl, time.Millisecond)).Result()
	if err := st.observe("once", start, err); err != nil {
		return false, err
	}
	return ok, nil
}

// blobKey names a refresh blob's answer or lock. The hash is a hash tag ({…}), so a
// blob's two keys share a Redis Cluster slot and one script may touch both.
func blobKey(kind string, key [32]byte) string {
	return storePrefix + kind + ":{" + hex.EncodeToString(key[:]) + "}"
}

// answerOrLockScript returns {1, answer} when an answer is kept (KEYS[1]), else takes
// the lock (KEYS[2]) for owner ARGV[1] for ARGV[2] ms and returns {2, ""}, or {0, ""}
// when another owner holds it.
var answerOrLockScript = redis.NewScript(`
local a = redis.call("GET", KEYS[1])
if a then return {1, a} end
if redis.call("SET", KEYS[2], ARGV[1], "NX", "PX", ARGV[2]) then return {2, ""} end
return {0, ""}`)

// answerOrLock returns the sealed refresh answer kept for key; when there is none it
// takes key's single-flight lock for owner, for ttl, and reports whether it got it. One
// round trip, atomic: a holder's answer is never missed between the look and the lock.
func (st *sharedStore) answerOrLock(ctx context.Context, key [32]byte, owner string, ttl time.Duration) (answer string, locked bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	start := time.Now()
	res, err := answerOrLockScript.Run(ctx, st.rdb, []string{blobKey("answer", key), blobKey("lock", key)},
		owner, ttl.Milliseconds()).Slice()
	if err := st.observe("answer_or_lock", start, err); err != nil {
		return "", false, err
	}
	if len(res) != 2 {
		return "", false, fmt.Errorf("%w: answer_or_lock: answer of %d values", errStore, len(res))
	}
	n, _ := res[0].(int64)
	a, _ := res[1].(string)
	return a, n == 2, nil
}

// putAnswerScript keeps answer ARGV[2] (KEYS[1]) for ARGV[3] ms, then releases the lock
// (KEYS[2]) if owner ARGV[1] still holds it.
var putAnswerScript = redis.NewScript(`
redis.call("SET", KEYS[1], ARGV[2], "PX", ARGV[3])
if redis.call("GET", KEYS[2]) == ARGV[1] then redis.call("DEL", KEYS[2]) end
return 1`)

// putAnswer keeps a sealed refresh answer for key for ttl and releases owner's lock.
func (st *sharedStore) putAnswer(ctx context.Context, key [32]byte, owner, sealed string, ttl time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	start := time.Now()
	err := putAnswerScript.Run(ctx, st.rdb, []string{blobKey("answer", key), blobKey("lock", key)},
		owner, sealed, ttl.Milliseconds()).Err()
	return st.observe("put_answer", start, err)
}

var (
	// renewScript extends a lock's expiry if owner still holds it.
	renewScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0`)
	// unlockScript deletes a lock if owner still holds it.
	unlockScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("DEL", KEYS[1])
end
return 0`)
)

// renew extends owner's lock of key to ttl and reports whether owner still holds it.
func (st *sharedStore) renew(ctx context.Context, key [32]byte, owner string, ttl time.Duration) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	start := time.Now()
	n, err := renewScript.Run(ctx, st.rdb, []string{blobKey("lock", key)}, owner, ttl.Milliseconds()).Int()
	if err := st.observe("renew", start, err); err != nil {
		return false, err
	}
	return n == 1, nil
}

// unlock releases owner's lock of key; a lock another owner holds stays.
func (st *sharedStore) unlock(ctx context.Context, key [32]byte, owner string) error {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	start := time.Now()
	return st.observe("unlock", start, unlockScript.Run(ctx, st.rdb, []string{blobKey("lock", key)}, owner).Err())
}

// gcraScript is a token bucket as GCRA (the generic cell rate algorithm) on the
// store's clock: ARGV[1] is the interval between tokens and ARGV[2] the burst, in
// microseconds and tokens. It answers {1, 0} and takes a token, or {0, wait µs}.
var gcraScript = redis.NewScript(`
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call("GET", KEYS[1]) or now)
if tat < now then tat = now end
local new = tat + interval
local over = new - now - burst * interval
if over > 0 then return {0, over} end
redis.call("SET", KEYS[1], new, "PX", math.ceil((new - now) / 1000) + 1)
return {1, 0}`)

// allow takes one token from the bucket name (interval between tokens, burst) and,
// when it is empty, reports false and how long until a token is back.
func (st *sharedStore) allow(ctx context.Context, name string, interval time.Duration, burst int) (bool, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	start := time.Now()
	res, err := gcraScript.Run(ctx, st.rdb, []string{storePrefix + "rate:" + name},
		interval.Microseconds(), burst).Int64Slice()
	if err := st.observe("rate", start, err); err != nil {
		return false, 0, err
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("%w: rate: answer of %d values", errStore, len(res))
	}
	return res[0] == 1, time.Duration(res[1]) * time.Microsecond, nil
}

// healthy reports whether the store answered a ping within the last healthEvery; it
// pings at most once per healthEvery.
func (st *sharedStore) healthy(ctx context.Context) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if time.Since(st.checked) < healthEvery {
		return st.up
	}
	pctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	start := time.Now()
	err := st.observe("ping", start, st.rdb.Ping(pctx).Err())
	st.checked, st.up = time.Now(), err == nil
	return st.up
}

// storeUnavailable is the answer to a request that needs the store when it fails: 503
// with source relay; nothing that must happen once was done.
func storeUnavailable() *apiError {
	e := relayErr(http.StatusServiceUnavailable, "store_unavailable",
		"the relay's shared store cannot be reached; try again shortly")
	e.RetryAfter = 1
	return e
}

// redactedStore is the store URL for logs: no password (there is none) and no user.
func redactedStore(raw string) string {
	if i := strings.Index(raw, "@"); i >= 0 {
		if j := strings.Index(raw, "://"); j >= 0 && j < i {
			return raw[:j+3] + raw[i+1:]
		}
	}
	return raw
}
