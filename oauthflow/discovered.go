package oauthflow

import (
	"sync"
	"time"
)

// discoveryTTL is how long a discovered metadata document serves refreshes
// and revocations before it is fetched again. A Connect always fetches it.
const discoveryTTL = time.Hour

// discovered remembers metadata documents by issuer, so that a refresh every
// few minutes does not fetch the provider's discovery document each time.
var discovered = &metadataCache{}

type metadataCache struct {
	mu sync.Mutex
	m  map[string]cachedMetadata // guarded by mu
}

type cachedMetadata struct {
	meta Metadata
	at   time.Time
}

func (c *metadataCache) get(issuer string) (Metadata, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[issuer]
	if !ok || time.Since(e.at) > discoveryTTL {
		return Metadata{}, false
	}
	return e.meta, true
}

func (c *metadataCache) put(issuer string, m Metadata) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]cachedMetadata)
	}
	c.m[issuer] = cachedMetadata{meta: m, at: time.Now()}
}
