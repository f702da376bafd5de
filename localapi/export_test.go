package localapi

import "time"

// SetBodyReadTimeout sets the request body deadline for a test and returns
// the function that restores it.
func SetBodyReadTimeout(d time.Duration) (restore func()) {
	old := bodyReadTimeout
	bodyReadTimeout = d
	return func() { bodyReadTimeout = old }
}
