package localclient

import "time"

// The JSON bodies of the socket API, exactly as docs/socket-api.md writes them. They
// are the wire form: the agent keeps its own types and the server maps them,
// so that clients (the CLI, the GUI) need not import the agent.

// Connection is one connected account.
type Connection struct {
	ID              string            `json:"id"`
	Provider        string            `json:"provider"`
	Label           string            `json:"label"`
	Account         string            `json:"account"`
	Fields          map[string]string `json:"fields"`
	ScopesGranted   []string          `json:"scopes_granted"`
	ScopesRequested []string          `json:"scopes_requested"`
	ExpiresAt       time.Time         `json:"expires_at"`
	State           string            `json:"state"` // connecting | connected | refreshing | expired | needs_reconnect
	Generation      int64             `json:"generation"`
	RawKeys         bool              `json:"raw_keys"`
	Default         bool              `json:"default"` // the connection a request naming the provider gets
}

// The states of a connection.
const (
	StateConnecting     = "connecting"
	StateConnected      = "connected"
	StateRefreshing     = "refreshing"
	StateExpired        = "expired"
	StateNeedsReconnect = "needs_reconnect"
)

// ConnectionPatch is the body of PATCH /v1/connections/{id}; nil fields stay.
type ConnectionPatch struct {
	Label   *string `json:"label,omitempty"`
	RawKeys *bool   `json:"raw_keys,omitempty"`
	Default *bool   `json:"default,omitempty"` // only true: setting one clears the provider's others
}

// Token is the answer of GET /v1/connections/{id}/token. Peatio connections
// carry AccessKey and SecretKey; bearer ones AccessToken.
type Token struct {
	TokenType   string    `json:"token_type"`
	ExpiresAt   time.Time `json:"expires_at"`
	Scopes      []string  `json:"scopes"`
	Generation  int64     `json:"generation"`
	AccessKey   string    `json:"access_key,omitempty"`
	SecretKey   string    `json:"secret_key,omitempty"`
	AccessToken string    `json:"access_token,omitempty"`
}

// SignRequest is the body of POST /v1/connections/{id}/sign.
type SignRequest struct {
	Method string            `json:"method"`
	Path   string            `json:"path"` // absolute as the exchange sees it: /api/v2/orders
	Params map[string]string `json:"params"`
}

// Signed is a request signed the Peatio way; Query is the full encoded query
// string to send.
type Signed struct {
	AccessKey string `json:"access_key"`
	Tonce     int64  `json:"tonce"`
	Signature string `json:"signature"`
	Query     string `json:"query"`
}

// RefreshRequest is the body of POST /v1/connections/{id}/refresh. With
// IfGeneration set, the agent refreshes only if that generation is still
// current, so a burst of reports of one dead key makes one refresh.
type RefreshRequest struct {
	IfGeneration *int64 `json:"if_generation,omitempty"`
}

// RevokeResult is the answer of DELETE /v1/connections/{id}.
type RevokeResult struct {
	RevokedAtProvider bool   `json:"revoked_at_provider"`
	Message           string `json:"message"`
}

// ConnectRequest is the body of POST /v1/connect.
type ConnectRequest struct {
	Provider string            `json:"provider"`
	Scopes   []string          `json:"scopes"`
	Fields   map[string]string `json:"fields"`
}

// ConnectLine is one line of the /v1/connect stream: first AuthorizeURL, last
// Connection or Error.
type ConnectLine struct {
	AuthorizeURL string      `json:"authorize_url,omitempty"`
	Connection   *Connection `json:"connection,omitempty"`
	Error        *ErrorBody  `json:"error,omitempty"`
}

// Status is the answer of GET /v1/status.
type Status struct {
	Version     string `json:"version"`
	PID         int    `json:"pid"`
	Connections int    `json:"connections"`
	// PendingRevocations counts revocations the provider has not confirmed
	// yet; the agent keeps them, sealed, and retries them across restarts.
	PendingRevocations int `json:"pending_revocations"`
}

// Activity is one recorded access to the agent. Method and Path are set
// for sign and proxy, Path as the exchange sees it (/api/v2/orders).
type Activity struct {
	Time       time.Time `json:"time"`
	PID        int       `json:"pid"`
	Exe        string    `json:"exe"`
	Connection string    `json:"connection"`
	Label      string    `json:"label"`
	Op         string    `json:"op"`
	Method     string    `json:"method,omitempty"`
	Path       string    `json:"path,omitempty"`
}

// Settings are the agent-wide settings.
type Settings struct {
	RefreshMargin string `json:"refresh_margin"` // a Go duration
	Autostart     bool   `json:"autostart"`
	// ApproveApps: token, sign and proxy need a grant per app × connection.
	// No socket call can change it.
	ApproveApps bool `json:"approve_apps"`
}

// SettingsPatch is the body of PATCH /v1/settings; nil fields stay.
type SettingsPatch struct {
	RefreshMargin *string `json:"refresh_margin,omitempty"`
	Autostart     *bool   `json:"autostart,omitempty"`
}

// Event is one server-sent event of GET /v1/events.
type Event struct {
	Type       string     `json:"-"` // state | refreshed | connected | revoked | activity
	Connection Connection `json:"connection"`
	Activity   *Activity  `json:"-"` // set only for "activity"
}

// Provider is one provider a connection can be made with: the relay's list
// plus the locally configured ones. It never holds a client id or secret.
type Provider struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	TokenFormat     string            `json:"token_format"` // peatio | bearer
	DefaultLifetime string            `json:"default_lifetime"`
	APIBase         string            `json:"api_base"`
	MePath          string            `json:"me_path"`
	Label           string            `json:"label"`
	AccountField    string            `json:"account_field"`
	AllowedHosts    []string          `json:"allowed_hosts"`
	DefaultParams   map[string]string `json:"default_params"`
	Scopes          []Scope           `json:"scopes"`
	Fields          []Field           `json:"fields"`
	Local           bool              `json:"local,omitempty"` // configured in config.toml, no relay
}

// Scope is one scope a provider offers.
type Scope struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Default     bool   `json:"default"`
	Required    bool   `json:"required"`
}

// Field is one extra value asked at Connect time.
type Field struct {
	Name     string   `json:"name"`
	Label    string   `json:"label"`
	Kind     string   `json:"kind"` // text | select
	Options  []string `json:"options,omitempty"`
	Required bool     `json:"required"`
	Default  string   `json:"default,omitempty"`
}

// App is a grant of app approval: an app × connection and the human's
// decision (GET /v1/apps).
type App struct {
	ID         string    `json:"id"`
	App        string    `json:"app"`              // the app's name when granted
	Exe        string    `json:"exe,omitempty"`    // its executable (the interpreter for a script)
	Script     string    `json:"script,omitempty"` // its script
	Connection string    `json:"connection"`
	Decision   string    `json:"decision"` // always | deny
	Created    time.Time `json:"created"`
	LastUsed   time.Time `json:"last_used,omitzero"`
	Uses       int       `json:"uses"`
	Expires    time.Time `json:"expires,omitzero"` // an interactive terminal's grant ends then, or when the screen locks
}

// ProposalRequest is the body of POST /v1/apps/proposals: one of Exe and
// Script, an absolute path.
type ProposalRequest struct {
	Exe        string `json:"exe,omitempty"`
	Script     string `json:"script,omitempty"`
	Connection string `json:"connection,omitempty"`
}

// Proposal is a proposal waiting for a human in the tray: never a grant.
type Proposal struct {
	ID         string    `json:"id"`
	App        string    `json:"app"` // the app the path names, as the tray will show it
	Exe        string    `json:"exe,omitempty"`
	Script     string    `json:"script,omitempty"`
	Connection string    `json:"connection,omitempty"`
	Created    time.Time `json:"created"`
	Message    string    `json:"message"`
}
