package fakeexchange

import (
	"net/http"
	"strconv"
	"time"
)

// Account is one balance in the /members/me answer.
type Account struct {
	Currency string `json:"currency"`
	Balance  string `json:"balance"`
	Locked   string `json:"locked"`
}

// MemberInfo is the body of GET /api/v2/members/me.
type MemberInfo struct {
	SN        string    `json:"sn"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Activated bool      `json:"activated"`
	Accounts  []Account `json:"accounts"`
}

// Order is a Peatio order as /api/v2/orders answers it.
type Order struct {
	ID              int    `json:"id"`
	Side            string `json:"side"`
	OrdType         string `json:"ord_type"`
	Price           string `json:"price"`
	AvgPrice        string `json:"avg_price"`
	State           string `json:"state"`
	Market          string `json:"market"`
	CreatedAt       string `json:"created_at"`
	Volume          string `json:"volume"`
	RemainingVolume string `json:"remaining_volume"`
	ExecutedVolume  string `json:"executed_volume"`
	TradesCount     int    `json:"trades_count"`
}

// Market is one entry of GET /api/v2/markets.
type Market struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// markets are the exchange's markets.
var markets = []Market{{ID: "btcusd", Name: "BTC/USD"}, {ID: "ethbtc", Name: "ETH/BTC"}, {ID: "ethusd", Name: "ETH/USD"}}

// marketKnown reports whether id names a market.
func marketKnown(id string) bool {
	for _, m := range markets {
		if m.ID == id {
			return true
		}
	}
	return false
}

// serveMarkets handles GET /api/v2/markets (public).
func (e *Exchange) serveMarkets(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, markets)
}

// serveMe handles GET /api/v2/members/me (scope profile).
func (e *Exchange) serveMe(w http.ResponseWriter, r *http.Request) {
	params, aerr := requestParams(w, r)
	if aerr == nil {
		_, aerr = e.authenticate(r, params, "profile")
	}
	if aerr != nil {
		aerr.write(w)
		return
	}
	m := e.member()
	writeJSON(w, http.StatusOK, MemberInfo{
		SN: m.SN, Name: m.Name, Email: m.Email, Activated: m.Activated,
		Accounts: []Account{
			{Currency: "btc", Balance: "1.5", Locked: "0.0"},
			{Currency: "eth", Balance: "12.25", Locked: "0.5"},
			{Currency: "usd", Balance: "2500.0", Locked: "100.0"},
		},
	})
}

// serveOrders handles GET /api/v2/orders (scope history or trade), filtered
// by the optional market parameter.
func (e *Exchange) serveOrders(w http.ResponseWriter, r *http.Request) {
	params, aerr := requestParams(w, r)
	if aerr == nil {
		_, aerr = e.authenticate(r, params, "history", "trade")
	}
	if aerr != nil {
		aerr.write(w)
		return
	}
	market := params.Get("market")
	if market != "" && !marketKnown(market) {
		(&apiError{http.StatusBadRequest, CodeBadParam, "market does not have a valid value"}).write(w)
		return
	}
	e.mu.Lock()
	out := make([]Order, 0, len(e.orders))
	for _, o := range e.orders {
		if market == "" || o.Market == market {
			out = append(out, o)
		}
	}
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// serveCreateOrder handles POST /api/v2/orders (scope trade): market, side
// (buy|sell), volume and price, from the form body or the query string.
func (e *Exchange) serveCreateOrder(w http.ResponseWriter, r *http.Request) {
	params, aerr := requestParams(w, r)
	if aerr == nil {
		_, aerr = e.authenticate(r, params, "trade")
	}
	if aerr != nil {
		aerr.write(w)
		return
	}
	bad := func(name string) {
		(&apiError{http.StatusBadRequest, CodeBadParam, name + " does not have a valid value"}).write(w)
	}
	market, side := params.Get("market"), params.Get("side")
	switch {
	case !marketKnown(market):
		bad("market")
		return
	case side != "buy" && side != "sell":
		bad("side")
		return
	case !positiveDecimal(params.Get("volume")):
		bad("volume")
		return
	case !positiveDecimal(params.Get("price")):
		bad("price")
		return
	}
	e.mu.Lock()
	o := Order{
		ID: e.nextOrderID, Side: side, OrdType: "limit", Price: params.Get("price"), AvgPrice: "0.0",
		State: "wait", Market: market, CreatedAt: e.cfg.Now().UTC().Format(time.RFC3339),
		Volume: params.Get("volume"), RemainingVolume: params.Get("volume"), ExecutedVolume: "0.0",
	}
	e.nextOrderID++
	e.orders = append(e.orders, o)
	e.mu.Unlock()
	writeJSON(w, http.StatusCreated, o)
}

// positiveDecimal reports whether s is a plain decimal number above zero.
func positiveDecimal(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	return err == nil && f > 0
}
