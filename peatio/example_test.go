package peatio_test

import (
	"fmt"
	"log"
	"net/url"
	"time"

	"github.com/tokentray/tokentray/peatio"
)

// Sign a Peatio API request; default_params are part of the signature.
func ExampleSigner_Sign() {
	s := &peatio.Signer{Now: func() time.Time { return time.UnixMilli(123456789) }}
	q, err := s.Sign("GET", "/api/v2/markets", url.Values{"foo": {"bar"}}, "xxx", "yyy", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(q.Query)
	// Output:
	// access_key=xxx&foo=bar&tonce=123456789&signature=e324059be4491ed8e528aa7b8735af1e96547fbec96db962d51feb7bf1b64dee
}
