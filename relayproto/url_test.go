package relayproto

import (
	"errors"
	"testing"

	"github.com/tokentray/tokentray/relayproto/prototest"
)

func TestCheckURL(t *testing.T) {
	for _, tc := range prototest.URLs {
		_, err := CheckURL(tc.URL)
		if (err == nil) != tc.OK {
			t.Errorf("CheckURL(%q) = %v, want ok %v", tc.URL, err, tc.OK)
		}
		if err != nil && !errors.Is(err, ErrURLRefused) {
			t.Errorf("CheckURL(%q) = %v, want ErrURLRefused", tc.URL, err)
		}
	}
}

func TestIsLoopbackHost(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"localhost", true}, {"LOCALHOST", true}, {"LocalHost", true},
		{"127.0.0.1", true}, {"127.255.255.254", true}, {"::1", true}, {"[::1]", true},
		{"0:0:0:0:0:0:0:1", true},
		{"", false}, {"localhost.", false}, {"localhost.example.com", false}, {"127.0.0.1.example.com", false},
		{"::2", false}, {"[::2]", false}, {"[127.0.0.1", false}, {"0.0.0.0", false}, {"::", false},
		{"192.0.2.1", false}, {"example.com", false}, {"[]", false},
	}
	for _, tt := range tests {
		if got := IsLoopbackHost(tt.host); got != tt.want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

func TestHostAllowed(t *testing.T) {
	allowed := []string{"f1cx.com", "*.Example.com.", " api.x.com ", "*."}
	tests := []struct {
		host string
		want bool
	}{
		{"f1cx.com", true}, {"F1CX.COM", true}, {"f1cx.com.", true},
		{"api.example.com", true}, {"a.b.example.com", true}, {"example.com", false},
		{"api.x.com", true}, {"x.com", false}, {"evilf1cx.com", false}, {"f1cx.com.evil", false},
		{"", false}, {"127.0.0.1", false}, {"com", false}, {"www.f1cx.com", false},
	}
	for _, tt := range tests {
		if got := HostAllowed(allowed, tt.host); got != tt.want {
			t.Errorf("HostAllowed(%q, %q) = %v, want %v", allowed, tt.host, got, tt.want)
		}
	}
	if HostAllowed([]string{"*.0.1"}, "127.0.0.1") {
		t.Error(`HostAllowed("*.0.1", "127.0.0.1") = true, want a wildcard never to match an IP`)
	}
}
