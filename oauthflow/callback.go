package oauthflow

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"

	"github.com/tokentray/tokentray/relayproto"
)

// CallbackPath is the path of the loopback redirect URI:
// http://127.0.0.1:PORT/callback.
const CallbackPath = "/callback"

// maxProviderText caps provider strings taken from a callback.
const maxProviderText = 2048

// callback is one accepted callback: result (relay flow) or code (direct).
type callback struct {
	result string
	code   string
}

// flowMode says which callback a flow waits for.
type flowMode struct {
	direct bool   // code=… instead of result=…
	issuer string // expected iss (RFC 9207), direct flow only
	// issRequired: the provider announced
	// authorization_response_iss_parameter_supported.
	issRequired bool
}

// errWrongState marks a callback that does not carry this flow's state:
// the flow shows an error page and keeps waiting.
var errWrongState = errors.New("callback does not carry the state of this flow")

// parseCallback classifies one callback query. It returns errWrongState
// (keep waiting), an *Error (the provider or relay refused: the flow ends
// with its own text), another error (a broken answer: the flow ends), or
// the accepted callback.
func parseCallback(q url.Values, state string, mode flowMode) (callback, error) {
	got := q["state"]
	if len(got) != 1 || state == "" || subtle.ConstantTimeCompare([]byte(got[0]), []byte(state)) != 1 {
		return callback{}, errWrongState
	}
	for k, v := range q {
		if len(v) > 1 {
			return callback{}, fmt.Errorf("callback repeats parameter %q: %w", truncate(k, 32), ErrBadResponse)
		}
	}
	if mode.direct {
		// RFC 9207 §2.4: iss, when present or promised, must be the
		// issuer (when the issuer is known at all).
		iss, hasIss := q["iss"]
		if hasIss && mode.issuer != "" && iss[0] != mode.issuer {
			return callback{}, fmt.Errorf("callback iss %q: %w", truncate(iss[0], 256), ErrIssuerMismatch)
		}
		if !hasIss && mode.issRequired {
			return callback{}, fmt.Errorf("callback has no iss: %w", ErrIssuerMismatch)
		}
	}
	if code := q.Get("error"); code != "" {
		e := &Error{
			Code:        truncate(code, 256),
			Description: truncate(q.Get("error_description"), maxProviderText),
			Source:      relayproto.SourceProvider,
		}
		if !mode.direct && q.Get("error_source") == relayproto.SourceRelay {
			e.Source = relayproto.SourceRelay
		}
		return callback{}, e
	}
	if mode.direct {
		if c := q.Get("code"); c != "" {
			return callback{code: c}, nil
		}
		return callback{}, fmt.Errorf("callback has neither code nor error: %w", ErrBadResponse)
	}
	if r := q.Get("result"); r != "" {
		return callback{result: r}, nil
	}
	return callback{}, fmt.Errorf("callback has neither result nor error: %w", ErrBadResponse)
}

// page is the data of one loopback page.
type page struct {
	Title   string
	Message string
	Detail  string
}

// pageTmpl is self-contained: no script, style or external resource, so
// CSP default-src 'none' holds; html/template escapes every string.
var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<title>tokentray: {{.Title}}</title></head>
<body><h1>{{.Title}}</h1><p>{{.Message}}</p>{{if .Detail}}<pre>{{.Detail}}</pre>{{end}}
</body></html>
`))

// writePage answers status with a page and the security headers every
// loopback answer carries.
func writePage(w http.ResponseWriter, status int, p page) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, p)
}

// Pages of the loopback listener.
var (
	pageNotFound   = page{Title: "Not found", Message: "Nothing is served here."}
	pageWrongHost  = page{Title: "Bad request", Message: "This address is only reachable as 127.0.0.1."}
	pageWrongState = page{Title: "Unknown sign-in",
		Message: "This answer does not belong to the sign-in tokentray is waiting for. tokentray keeps waiting; start again from tokentray if this persists."}
	pageTaken   = page{Title: "Already done", Message: "This sign-in has already been answered. You can close this tab."}
	pageSuccess = page{Title: "Connected", Message: "tokentray is connected. You can close this tab."}
)

// errorPage shows why a flow failed; provider text is escaped by the template.
func errorPage(err error) page {
	var e *Error
	if errors.As(err, &e) {
		who := "The provider"
		if e.Source == relayproto.SourceRelay {
			who = "The tokentray relay"
		}
		return page{Title: "Not connected", Message: who + " refused: " + e.Code, Detail: e.Description}
	}
	return page{Title: "Not connected", Message: "Connecting failed.", Detail: err.Error()}
}
