package fakeexchange

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"
)

func TestMembersMe(t *testing.T) {
	f := newFixture(t)
	status, body := f.apiGet(t, f.ex.Issue("profile").AccessToken, "/api/v2/members/me", nil)
	if status != http.StatusOK {
		t.Fatalf("status = %d, want 200", status)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"sn": "ID1A2B3C4D5E", "name": "Alice Trader", "email": "alice@example.com", "activated": true} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	accounts, _ := got["accounts"].([]any)
	first, _ := accounts[0].(map[string]any)
	if len(accounts) == 0 || first["currency"] != "btc" || first["balance"] != "1.5" || first["locked"] != "0.0" {
		t.Errorf("accounts = %v, want btc 1.5 / 0.0 first", accounts)
	}
}

func TestOrders(t *testing.T) {
	f := newFixture(t)
	trade := f.ex.Issue("trade").AccessToken
	history := f.ex.Issue("history").AccessToken
	place := func(t *testing.T, query, form url.Values) (int, []byte) {
		t.Helper()
		return f.send(t, apiRequest{method: "POST", path: "/api/v2/orders", query: query, form: form})
	}
	order := url.Values{"market": {"btcusd"}, "side": {"buy"}, "volume": {"0.5"}, "price": {"30000"}}
	tests := []struct {
		name       string
		split      func(signed url.Values) (query, form url.Values)
		params     url.Values
		wantStatus int
		wantCode   int
	}{
		{"form body", func(s url.Values) (url.Values, url.Values) { return url.Values{}, s }, order, 201, 0},
		{"query string", func(s url.Values) (url.Values, url.Values) { return s, url.Values{} }, order, 201, 0},
		{"auth in query, order in body", func(s url.Values) (url.Values, url.Values) {
			q, b := url.Values{}, url.Values{}
			for k, v := range s {
				if k == "access_key" || k == "tonce" || k == "signature" {
					q[k] = v
				} else {
					b[k] = v
				}
			}
			return q, b
		}, url.Values{"market": {"ethbtc"}, "side": {"sell"}, "volume": {"2"}, "price": {"0.05"}}, 201, 0},
		{"unknown market", func(s url.Values) (url.Values, url.Values) { return url.Values{}, s },
			url.Values{"market": {"dogeusd"}, "side": {"buy"}, "volume": {"1"}, "price": {"1"}}, 400, CodeBadParam},
		{"bad side", func(s url.Values) (url.Values, url.Values) { return url.Values{}, s },
			url.Values{"market": {"btcusd"}, "side": {"hold"}, "volume": {"1"}, "price": {"1"}}, 400, CodeBadParam},
		{"zero volume", func(s url.Values) (url.Values, url.Values) { return url.Values{}, s },
			url.Values{"market": {"btcusd"}, "side": {"buy"}, "volume": {"0"}, "price": {"1"}}, 400, CodeBadParam},
		{"price not a number", func(s url.Values) (url.Values, url.Values) { return url.Values{}, s },
			url.Values{"market": {"btcusd"}, "side": {"buy"}, "volume": {"1"}, "price": {"1e3"}}, 400, CodeBadParam},
	}
	created := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := signed(trade, "POST", "/api/v2/orders", f.tonce(0), tt.params)
			f.clock.Advance(time.Millisecond) // a fresh tonce for the next case
			q, b := tt.split(s)
			status, body := place(t, q, b)
			if status != tt.wantStatus {
				t.Fatalf("status = %d (%s), want %d", status, body, tt.wantStatus)
			}
			if tt.wantCode != 0 {
				if code := apiCode(t, body); code != tt.wantCode {
					t.Errorf("code = %d, want %d", code, tt.wantCode)
				}
				return
			}
			created++
			var o Order
			if err := json.Unmarshal(body, &o); err != nil {
				t.Fatal(err)
			}
			if o.ID != created || o.Market != tt.params.Get("market") || o.Side != tt.params.Get("side") ||
				o.Volume != tt.params.Get("volume") || o.Price != tt.params.Get("price") || o.State != "wait" {
				t.Errorf("order = %+v, want id %d and the posted fields", o, created)
			}
		})
	}

	listTests := []struct {
		name    string
		market  string
		wantIDs []int
	}{
		{"all", "", []int{1, 2, 3}},
		{"btcusd", "btcusd", []int{1, 2}},
		{"ethbtc", "ethbtc", []int{3}},
		{"ethusd", "ethusd", []int{}},
	}
	for _, tt := range listTests {
		t.Run("list "+tt.name, func(t *testing.T) {
			params := url.Values{}
			if tt.market != "" {
				params.Set("market", tt.market)
			}
			status, body := f.apiGet(t, history, "/api/v2/orders", params)
			if status != http.StatusOK {
				t.Fatalf("status = %d, want 200", status)
			}
			var orders []Order
			if err := json.Unmarshal(body, &orders); err != nil {
				t.Fatal(err)
			}
			ids := []int{}
			for _, o := range orders {
				ids = append(ids, o.ID)
			}
			if !reflect.DeepEqual(ids, tt.wantIDs) {
				t.Errorf("ids = %v, want %v", ids, tt.wantIDs)
			}
		})
	}
	status, body := f.apiGet(t, history, "/api/v2/orders", url.Values{"market": {"nope"}})
	if status != http.StatusBadRequest || apiCode(t, body) != CodeBadParam {
		t.Errorf("unknown market filter: status %d code %d, want 400 1001", status, apiCode(t, body))
	}
}

func TestMarketsIsPublic(t *testing.T) {
	f := newFixture(t)
	status, _, body := f.get(t, "/api/v2/markets", nil)
	if status != http.StatusOK {
		t.Fatalf("status = %d, want 200", status)
	}
	var ms []Market
	if err := json.Unmarshal(body, &ms); err != nil || len(ms) == 0 || ms[0].ID != "btcusd" {
		t.Errorf("markets = %v (%v), want btcusd first", ms, err)
	}
}
