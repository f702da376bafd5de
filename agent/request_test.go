package agent

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/oauthflow"
	"github.com/tokentray/tokentray/relayproto"
)

func TestCheckFields(t *testing.T) {
	p := oauthflow.Provider{Provider: relayproto.Provider{Name: "X", Fields: []relayproto.Field{
		{Name: "environment", Kind: "select", Options: []string{"production", "sandbox"}, Required: true, Default: "production"},
		{Name: "region", Kind: "text", Required: true},
		{Name: "desk", Kind: "text"},
	},
	}}
	tests := []struct {
		name  string
		given map[string]string
		want  map[string]string
		err   string
	}{
		{"required given, optional left out, default filled", map[string]string{"region": "eu"},
			map[string]string{"environment": "production", "region": "eu"}, ""},
		{"all given", map[string]string{"environment": "sandbox", "region": "us", "desk": "fx"},
			map[string]string{"environment": "sandbox", "region": "us", "desk": "fx"}, ""},
		{"required missing", map[string]string{"desk": "fx"}, nil, `field "region" is required`},
		{"required empty", map[string]string{"region": ""}, nil, `field "region" is required`},
		{"select outside its options", map[string]string{"region": "eu", "environment": "staging"}, nil, `must be one of [production sandbox], not "staging"`},
		{"unknown field", map[string]string{"region": "eu", "account_type": "margin"}, nil, `has no field "account_type"`},
		{"too long", map[string]string{"region": strings.Repeat("x", 257)}, nil, "longer than 256 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := checkFields(p, tt.given)
			if tt.err != "" {
				if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("checkFields(%v) = %v, want bad request %q", tt.given, err, tt.err)
				}
				return
			}
			if err != nil || !maps.Equal(got, tt.want) {
				t.Fatalf("checkFields(%v) = %v, %v; want %v", tt.given, got, err, tt.want)
			}
		})
	}
}

func TestChooseScopes(t *testing.T) {
	p := oauthflow.Provider{Provider: relayproto.Provider{Name: "X", Scopes: []relayproto.Scope{
		{Name: "profile", Default: true, Required: true}, {Name: "history", Default: true}, {Name: "trade"},
	},
	}}
	tests := []struct {
		name      string
		requested []string
		want      string
		err       string
	}{
		{"none: the defaults", nil, "profile history", ""},
		{"required added", []string{"trade"}, "trade profile", ""},
		{"repeats dropped", []string{"trade", "trade", "profile"}, "trade profile", ""},
		{"unknown", []string{"withdraw"}, "", `no scope "withdraw"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := chooseScopes(p, tt.requested)
			if tt.err != "" {
				if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("chooseScopes(%v) = %v, want %q", tt.requested, err, tt.err)
				}
				return
			}
			if strings.Join(got, " ") != tt.want || err != nil {
				t.Fatalf("chooseScopes(%v) = %v, %v; want %s", tt.requested, got, err, tt.want)
			}
		})
	}
}
