// This file tests the fake ZITADEL's own behaviour: users/me, tokens, routing.

package fakeidp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestZitadelUsersMe(t *testing.T) {
	t.Parallel()
	z := NewZitadel("")
	z.AddToken(tPAT, tZOrg)
	url := serve(t, z) + "/auth/v1/users/me"
	a := call(t, plain, http.MethodGet, url, map[string]string{"Authorization": "Bearer " + tPAT}, "")
	var me struct {
		User struct {
			ID      string `json:"id"`
			State   string `json:"state"`
			Details struct {
				ResourceOwner string `json:"resourceOwner"`
			} `json:"details"`
		} `json:"user"`
	}
	if err := json.Unmarshal([]byte(a.body), &me); err != nil || a.status != http.StatusOK {
		t.Fatalf("users/me = %d %s (%v), want 200 and a user", a.status, a.body, err)
	}
	if me.User.ID == "" || me.User.State != "USER_STATE_ACTIVE" || me.User.Details.ResourceOwner != tZOrg {
		t.Errorf("users/me = %s, want an active user of org %s", a.body, tZOrg)
	}
	tests := []struct {
		name, auth string
		want       string
	}{
		{name: "no_token", auth: "", want: ZitadelNoAuth},
		{name: "bad_token", auth: "Bearer nope", want: caseNamed(t, "zitadel_v1/bad_token").Body},
		{name: "not_bearer", auth: "Basic " + tPAT, want: caseNamed(t, "zitadel_v1/bad_token").Body},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if a := call(t, plain, http.MethodGet, url, map[string]string{"Authorization": tt.auth}, ""); a.status != 401 || a.body != tt.want {
				t.Errorf("users/me with %q = %d %s, want 401 %s", tt.auth, a.status, a.body, tt.want)
			}
		})
	}
	if got := z.TotalCalls(); got != 0 {
		t.Errorf("TotalCalls() after users/me = %d, want 0", got)
	}
}

func TestZitadelRouting(t *testing.T) {
	t.Parallel()
	z := NewZitadel("")
	z.AddToken(tPAT, tZOrg)
	z.AddUser(tUser, tZOrg, ZitadelInactive)
	base := serve(t, z)
	auth := map[string]string{"Authorization": "Bearer " + tPAT}
	tests := []struct {
		name, method, path string
		status             int
		body, location     string
	}{
		{name: "empty_id", method: http.MethodPost, path: "/v2/users//reactivate", status: 301, location: "/v2/users/reactivate"},
		{name: "unknown_path", method: http.MethodPost, path: "/v3/users/" + tUser + "/reactivate", status: 404, body: `{"code":5,"message":"Not Found"}`},
		{name: "v1_path_on_v2_verb", method: http.MethodPost, path: "/management/v1/users/" + tUser + "/reactivate", status: 404, body: `{"code":5,"message":"Not Found"}`},
		{name: "token_get", method: http.MethodGet, path: "/oauth/v2/token", status: 405, body: `{"code":12,"message":"Method Not Allowed"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := call(t, plain, tt.method, base+tt.path, auth, "{}")
			if a.status != tt.status || a.body != tt.body || a.header.Get("Location") != tt.location {
				t.Errorf("%s %s = %d %q Location %q, want %d %q Location %q", tt.method, tt.path, a.status, a.body, a.header.Get("Location"), tt.status, tt.body, tt.location)
			}
		})
	}
	if got := z.State(tUser); got != ZitadelInactive {
		t.Errorf("State after routing errors = %q, want inactive", got)
	}
}

func TestZitadelTokenLifetime(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	z := NewZitadel("")
	z.SetClock(clock)
	z.AddClient("client", "s3cret", tZOrg)
	z.SetTokenTTL(time.Hour)
	z.AddUser(tUser, tZOrg, ZitadelInactive)
	base := serve(t, z)
	tok := clientToken(t, base, "client", "s3cret")
	if tok.ExpiresIn != 3599 {
		t.Errorf("expires_in = %d, want 3599 for a 1h lifetime", tok.ExpiresIn)
	}
	clock.advance(time.Hour)
	a := call(t, plain, http.MethodPost, base+zitadelPath("v2", tUser), map[string]string{"Authorization": "Bearer " + tok.AccessToken}, "")
	if want := caseNamed(t, "zitadel_v2/bad_token"); a.status != want.Status || a.body != want.Body {
		t.Errorf("reactivate with an expired token = %d %s, want %d %s", a.status, a.body, want.Status, want.Body)
	}
	if got := z.State(tUser); got != ZitadelInactive {
		t.Errorf("State after an expired token = %q, want inactive", got)
	}
}

func TestZitadelConcurrentReactivations(t *testing.T) {
	t.Parallel()
	z := NewZitadel("127.0.0.1")
	z.AddToken(tPAT, tZOrg)
	const n = 100
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s%03d", tUser[:15], i)
		z.AddUser(ids[i], tZOrg, ZitadelInactive)
	}
	base := serve(t, z)
	done := make(chan int, n)
	for i := range n {
		go func() {
			api := []string{"v1", "v2"}[i%2]
			done <- call(t, plain, http.MethodPost, base+zitadelPath(api, ids[i]), map[string]string{"Authorization": "Bearer " + tPAT}, "").status
		}()
	}
	for range n {
		if st := <-done; st != http.StatusOK {
			t.Errorf("concurrent reactivate = %d, want 200", st)
		}
	}
	for _, id := range ids {
		if got := z.State(id); got != ZitadelActive || z.Calls(id) != 1 {
			t.Errorf("State(%s) = %q after %d calls, want active after 1", id, got, z.Calls(id))
		}
	}
}
