package oauthflow

import (
	"time"

	"github.com/tokentray/tokentray/relayproto"
)

var exchangeProvider = Provider{Provider: relayproto.Provider{ID: "exchange", Name: "EXchange", TokenFormat: relayproto.FormatPeatio, DefaultLifetime: relayproto.Duration(4 * time.Hour)}}
