package fakeexchange

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestTrades(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name       string
		query      url.Values
		wantStatus int
		wantRows   int
	}{
		{"default limit", url.Values{"market": {"btcusd"}}, 200, 50},
		{"one", url.Values{"market": {"btcusd"}, "limit": {"1"}}, 200, 1},
		{"not a flush multiple", url.Values{"market": {"ethbtc"}, "limit": {"2500"}}, 200, 2500},
		{"over max", url.Values{"market": {"btcusd"}, "limit": {"100001"}}, 400, 0},
		{"zero", url.Values{"market": {"btcusd"}, "limit": {"0"}}, 400, 0},
		{"not a number", url.Values{"market": {"btcusd"}, "limit": {"many"}}, 400, 0},
		{"unknown market", url.Values{"market": {"nope"}}, 400, 0},
		{"no market", url.Values{}, 400, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := f.get(t, "/api/v2/trades", tt.query)
			if status != tt.wantStatus {
				t.Fatalf("status = %d, want %d", status, tt.wantStatus)
			}
			if tt.wantStatus != 200 {
				if code := apiCode(t, body); code != CodeBadParam {
					t.Errorf("code = %d, want 1001", code)
				}
				return
			}
			var rows []struct {
				ID     int    `json:"id"`
				Market string `json:"market"`
				Price  string `json:"price"`
			}
			if err := json.Unmarshal(body, &rows); err != nil {
				t.Fatalf("body is not a JSON array: %v", err)
			}
			if len(rows) != tt.wantRows {
				t.Errorf("rows = %d, want %d", len(rows), tt.wantRows)
			}
			if rows[0].Market != tt.query.Get("market") || rows[0].Price == "" {
				t.Errorf("first row = %+v, want market %q and a price", rows[0], tt.query.Get("market"))
			}
		})
	}
}

func TestTradesStreams(t *testing.T) {
	f := newFixture(t)
	// 100,000 rows take longer than the fixture client's 10 s to decode under
	// -race on a busy machine: the whole read gets a deadline of its own.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+"/api/v2/trades?market=btcusd&limit=100000", nil)
	client := *f.client
	client.Timeout = 0
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ContentLength != -1 || resp.TransferEncoding == nil {
		t.Errorf("ContentLength = %d, TransferEncoding = %v; want a chunked stream", resp.ContentLength, resp.TransferEncoding)
	}
	dec := json.NewDecoder(resp.Body)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		t.Fatalf("first token = %v, %v; want [", tok, err)
	}
	n := 0
	for dec.More() {
		var row struct{ ID int }
		if err := dec.Decode(&row); err != nil {
			t.Fatalf("row %d: %v", n, err)
		}
		if row.ID != 1000000-n {
			t.Fatalf("row %d has id %d, want %d", n, row.ID, 1000000-n)
		}
		n++
	}
	if n != 100000 {
		t.Errorf("rows = %d, want 100000", n)
	}
}
