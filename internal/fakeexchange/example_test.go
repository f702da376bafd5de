package fakeexchange_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tokentray/tokentray/internal/fakeexchange"
)

// Example runs the whole flow a relay runs: authorize (auto-approved),
// redeem the code with the client secret, then call the signed me-API.
func Example() {
	ex := fakeexchange.New(fakeexchange.Config{})
	srv := httptest.NewServer(ex)
	defer srv.Close()
	defer ex.Close()
	redirect := "http://127.0.0.1:8787/v1/callback"
	ex.AddRedirectURI(redirect)
	ex.SetApproval(fakeexchange.AutoApprove)

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(srv.URL + "/oauth/authorize?" + url.Values{
		"client_id": {"tokentray-demo"}, "redirect_uri": {redirect}, "response_type": {"code"},
		"scope": {"profile history"}, "state": {"xyz"},
	}.Encode())
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	fmt.Println("state:", loc.Query().Get("state"))

	resp, err = http.PostForm(srv.URL+"/oauth/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {redirect},
		"client_id": {"tokentray-demo"}, "client_secret": {"demo-client-secret"},
	})
	if err != nil {
		panic(err)
	}
	var tok fakeexchange.Token
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	fmt.Println("token:", tok.TokenType, tok.ExpiresIn, tok.Scope)

	ak, sk, _ := strings.Cut(tok.AccessToken, ":")
	params := url.Values{"access_key": {ak}, "tonce": {strconv.FormatInt(time.Now().UnixMilli(), 10)}}
	params.Set("signature", fakeexchange.Sign(sk, fakeexchange.Payload("GET", "/api/v2/members/me", params)))
	resp, err = http.Get(srv.URL + "/api/v2/members/me?" + params.Encode())
	if err != nil {
		panic(err)
	}
	var me fakeexchange.MemberInfo
	json.NewDecoder(resp.Body).Decode(&me)
	resp.Body.Close()
	fmt.Println("member:", me.SN, me.Name)
	// Output:
	// state: xyz
	// token: urn:peatio:api:v2:token 14400 profile history
	// member: ID1A2B3C4D5E Alice Trader
}
