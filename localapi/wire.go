package localapi

import "github.com/tokentray/tokentray/localclient"

// The wire types, error codes and the client live in package localclient, so
// that a program that only calls the agent links none of it. These names
// are the same things under the server's package name, for the server's own
// code and for callers not yet moved to localclient.

type (
	Connection      = localclient.Connection
	ConnectionPatch = localclient.ConnectionPatch
	Token           = localclient.Token
	SignRequest     = localclient.SignRequest
	Signed          = localclient.Signed
	RefreshRequest  = localclient.RefreshRequest
	RevokeResult    = localclient.RevokeResult
	ConnectRequest  = localclient.ConnectRequest
	ConnectLine     = localclient.ConnectLine
	Status          = localclient.Status
	Activity        = localclient.Activity
	Settings        = localclient.Settings
	SettingsPatch   = localclient.SettingsPatch
	Event           = localclient.Event
	Provider        = localclient.Provider
	Scope           = localclient.Scope
	Field           = localclient.Field
	ErrorBody       = localclient.ErrorBody
	Error           = localclient.Error
	Client          = localclient.Client
)

const (
	StateConnecting      = localclient.StateConnecting
	StateConnected       = localclient.StateConnected
	StateRefreshing      = localclient.StateRefreshing
	StateExpired         = localclient.StateExpired
	StateNeedsReconnect  = localclient.StateNeedsReconnect
	CodeBadRequest       = localclient.CodeBadRequest
	CodeForbidden        = localclient.CodeForbidden
	CodeNotFound         = localclient.CodeNotFound
	CodeNeedsReconnect   = localclient.CodeNeedsReconnect
	CodeProviderError    = localclient.CodeProviderError
	CodeRelayUnreachable = localclient.CodeRelayUnreachable
	CodeInternal         = localclient.CodeInternal
	ErrorHeader          = localclient.ErrorHeader
)

var (
	ErrBadRequest       = localclient.ErrBadRequest
	ErrForbidden        = localclient.ErrForbidden
	ErrNotFound         = localclient.ErrNotFound
	ErrNeedsReconnect   = localclient.ErrNeedsReconnect
	ErrProviderError    = localclient.ErrProviderError
	ErrRelayUnreachable = localclient.ErrRelayUnreachable
	ErrInternal         = localclient.ErrInternal
	ErrAgentNotRunning  = localclient.ErrAgentNotRunning
	NewClient           = localclient.NewClient
	SocketPath          = localclient.SocketPath
)
