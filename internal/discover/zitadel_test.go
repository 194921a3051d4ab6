package discover_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"reactivator/internal/discover"
	"reactivator/internal/fakeidp"
	"reactivator/jobs"
	"reactivator/worker/zitadel"
)

const (
	orgA  = "401899638682091521"
	orgB  = "401899899316076545"
	admin = "admin-token"
)

type zworld struct {
	fake   *fakeidp.Zitadel
	client *zitadel.Client
	base   string
	t0     time.Time
}

// zsetup serves a fake ZITADEL with inactive users u1..u5 in orgA (u5 @other.test), u6 in orgB,
// active a1 and locked l1 in orgA, and an IAM_OWNER token.
func zsetup(t *testing.T) zworld {
	t.Helper()
	z := fakeidp.NewZitadel("127.0.0.1")
	z.AddToken(admin, orgA)
	t0 := time.Date(2026, 1, 5, 14, 0, 0, 0, time.UTC)
	for i := 1; i <= 5; i++ {
		u := fakeidp.ZitadelUser{ID: fmt.Sprintf("10%d", i), OrgID: orgA, State: fakeidp.ZitadelInactive, Created: t0.Add(time.Duration(i) * time.Second)}
		if i == 5 {
			u.Email, u.EmailVerified = "u5@other.test", true
		}
		z.AddZitadelUser(u)
	}
	z.AddZitadelUser(fakeidp.ZitadelUser{ID: "106", OrgID: orgB, State: fakeidp.ZitadelInactive, Created: t0.Add(6 * time.Second)})
	z.AddZitadelUser(fakeidp.ZitadelUser{ID: "201", OrgID: orgA, State: fakeidp.ZitadelActive})
	z.AddZitadelUser(fakeidp.ZitadelUser{ID: "202", OrgID: orgA, State: fakeidp.ZitadelLocked})
	base, stop := fakeidp.Serve(z)
	t.Cleanup(stop)
	return zworld{fake: z, client: zclient(t, base, admin), base: base, t0: t0}
}

func zclient(t *testing.T, base, token string) *zitadel.Client {
	t.Helper()
	c, err := zitadel.New(context.Background(), zitadel.Config{BaseURL: base, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ids(r *discover.Result) []string {
	var out []string
	for _, row := range r.Rows {
		out = append(out, row[0]+"/"+row[1])
	}
	return out
}

func TestZitadelPagesAcrossMoreThanOnePage(t *testing.T) {
	t.Parallel()
	w := zsetup(t)
	res, err := discover.Zitadel(t.Context(), w.client, discover.ZitadelQuery{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"101/" + orgA, "102/" + orgA, "103/" + orgA, "104/" + orgA, "105/" + orgA, "106/" + orgB}
	if got := ids(res); !slices.Equal(got, want) {
		t.Errorf("Zitadel ids = %v, want %v", got, want)
	}
	if res.Calls != 4 {
		t.Errorf("Zitadel calls = %d, want 4 (pages of 2, 2, 2, 0)", res.Calls)
	}
	if got := res.Rows[0]; got[2] != "user-101@example.com" || got[3] != "inactive" || got[4] != "" || got[5] != "" {
		t.Errorf("Zitadel row = %q, want email, state inactive, no deactivation known", got)
	}
}

func TestZitadelFilters(t *testing.T) {
	t.Parallel()
	w := zsetup(t)
	// 101 and 102 deactivated by the editor 900 at t0+1h and t0+2h, 103 by 901 at t0+3h, 106 (orgB) by 900 at t0+2h.
	for _, e := range []fakeidp.ZitadelEvent{
		{UserID: "101", OrgID: orgA, EditorID: "900", At: w.t0.Add(time.Hour)},
		{UserID: "102", OrgID: orgA, EditorID: "900", At: w.t0.Add(2 * time.Hour)},
		{UserID: "103", OrgID: orgA, EditorID: "901", At: w.t0.Add(3 * time.Hour)},
		{UserID: "106", OrgID: orgB, EditorID: "900", At: w.t0.Add(2 * time.Hour)},
		{UserID: "201", OrgID: orgA, EditorID: "900", At: w.t0.Add(2 * time.Hour)}, // active again since
	} {
		w.fake.AddDeactivatedEvent(e)
	}
	for _, tc := range []struct {
		name string
		q    discover.ZitadelQuery
		want []string
	}{
		{"one org", discover.ZitadelQuery{Orgs: []string{orgB}}, []string{"106/" + orgB}},
		{"two orgs", discover.ZitadelQuery{Orgs: []string{orgA, orgB}, PageSize: 3}, []string{"101/" + orgA, "102/" + orgA, "103/" + orgA, "104/" + orgA, "105/" + orgA, "106/" + orgB}},
		{"email domain", discover.ZitadelQuery{EmailDomain: "Other.TEST"}, []string{"105/" + orgA}},
		{"after", discover.ZitadelQuery{After: w.t0.Add(2 * time.Hour)}, []string{"102/" + orgA, "103/" + orgA, "106/" + orgB}},
		{"before", discover.ZitadelQuery{Before: w.t0.Add(2 * time.Hour)}, []string{"101/" + orgA}},
		{"window", discover.ZitadelQuery{After: w.t0.Add(90 * time.Minute), Before: w.t0.Add(150 * time.Minute)}, []string{"102/" + orgA, "106/" + orgB}},
		{"by", discover.ZitadelQuery{By: "901"}, []string{"103/" + orgA}},
		{"by and org, events paged", discover.ZitadelQuery{By: "900", Orgs: []string{orgA}, PageSize: 1}, []string{"101/" + orgA, "102/" + orgA}},
		{"by in two orgs", discover.ZitadelQuery{By: "900", Orgs: []string{orgA, orgB}, PageSize: 2}, []string{"101/" + orgA, "102/" + orgA, "106/" + orgB}},
		{"empty", discover.ZitadelQuery{EmailDomain: "nobody.test"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := discover.Zitadel(t.Context(), w.client, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(res); !slices.Equal(got, tc.want) {
				t.Errorf("Zitadel(%s) = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
	res, err := discover.Zitadel(t.Context(), w.client, discover.ZitadelQuery{By: "901"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Rows[0][4:], []string{w.t0.Add(3 * time.Hour).Format(time.RFC3339Nano), "901"}; !slices.Equal(got, want) {
		t.Errorf("deactivated_at, deactivated_by = %q, want %q", got, want)
	}
}

func TestZitadelDeactivateRecordsTheEditor(t *testing.T) {
	t.Parallel()
	w := zsetup(t)
	res := w.client.Deactivate(t.Context(), jobs.Row{Provider: jobs.Zitadel, UserID: "201"})
	if res.Class != jobs.ClassDeactivated {
		t.Fatalf("Deactivate = %+v, want deactivated", res)
	}
	found, err := discover.Zitadel(t.Context(), w.client, discover.ZitadelQuery{After: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(found.Rows) != 1 || found.Rows[0][0] != "201" || found.Rows[0][5] == "" || found.Rows[0][4] == "" {
		t.Errorf("Zitadel after a deactivate = %q, want user 201 with who and when", found.Rows)
	}
}

func TestZitadelWithoutEventsReadRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ms   []fakeidp.Membership
	}{
		{"user manager (403 AUTH-5mWD2)", []fakeidp.Membership{{IAM: true, Roles: []string{fakeidp.RoleIAMUserManager}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := zsetup(t)
			w.fake.AddServiceUser("weak", orgA, tc.ms...)
			_, err := discover.Zitadel(t.Context(), zclient(t, w.base, "weak"), discover.ZitadelQuery{After: w.t0})
			if !errors.Is(err, discover.ErrNoEventsRead) || !errors.Is(err, jobs.ErrFatal) {
				t.Fatalf("Zitadel = %v, want ErrNoEventsRead (fatal)", err)
			}
			if !strings.Contains(err.Error(), "events.read") || !strings.Contains(err.Error(), "IAM_OWNER") {
				t.Errorf("Zitadel error = %q, want it to name events.read and IAM_OWNER", err)
			}
		})
	}
}

// TestZitadelRefusesAServiceUserThatMayReactivateNowhere: ZITADEL answers ListUsers of a service
// user without any role with 200 and only itself, so Zitadel must look up its permissions first
// and refuse, naming the role to grant, before any listing or events call.
func TestZitadelRefusesAServiceUserThatMayReactivateNowhere(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ms   []fakeidp.Membership
		want string
		q    discover.ZitadelQuery
	}{
		{"no role", nil, "has no role at all", discover.ZitadelQuery{}},
		{"no role, with a window", nil, "has no role at all", discover.ZitadelQuery{After: time.Unix(0, 0)}},
		{"viewer", []fakeidp.Membership{{OrgID: orgA, Roles: []string{fakeidp.RoleOrgOwnerViewer}}}, "no user.write anywhere", discover.ZitadelQuery{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := zsetup(t)
			w.fake.AddServiceUser("weak", orgA, tc.ms...)
			res, err := discover.Zitadel(t.Context(), zclient(t, w.base, "weak"), tc.q)
			if !errors.Is(err, jobs.ErrFatal) || !strings.Contains(err.Error(), tc.want) ||
				!strings.Contains(err.Error(), "ORG_USER_MANAGER") || !strings.Contains(err.Error(), "IAM_USER_MANAGER") {
				t.Fatalf("Zitadel = %v, %v; want a fatal refusal saying %q and naming ORG_USER_MANAGER or IAM_USER_MANAGER", res, err, tc.want)
			}
			if n, e := w.fake.Requests("/v2/users"), w.fake.Requests("/admin/v1/events/_search"); n != 0 || e != 0 {
				t.Errorf("Zitadel made %d ListUsers and %d events calls, want none", n, e)
			}
		})
	}
	// The fake answers such a caller's ListUsers as the real server does: 200, nothing it may
	// reactivate, no error; so without the look-up the search would end empty and silent.
	w := zsetup(t)
	w.fake.AddServiceUser("weak", orgA)
	status, body, err := zclient(t, w.base, "weak").Call(t.Context(), "POST", "/v2/users", discover.ListUsersBody(discover.ZitadelQuery{}, 0, 10))
	if err != nil || status != 200 || strings.Contains(string(body), `"result"`) {
		t.Errorf("ListUsers without a role = %d %s, %v; want 200 with no result", status, body, err)
	}
}

func TestZitadelWindowReversedCallsNothing(t *testing.T) {
	t.Parallel()
	w := zsetup(t)
	before := len(w.fake.LastPaths())
	_, err := discover.Zitadel(t.Context(), w.client, discover.ZitadelQuery{After: w.t0.Add(time.Hour), Before: w.t0})
	if !errors.Is(err, discover.ErrWindow) {
		t.Fatalf("Zitadel = %v, want ErrWindow", err)
	}
	if got := len(w.fake.LastPaths()); got != before {
		t.Errorf("requests = %d, want %d (none)", got, before)
	}
}

func TestListUsersBody(t *testing.T) {
	t.Parallel()
	got := string(discover.ListUsersBody(discover.ZitadelQuery{Orgs: []string{"1", "2"}, EmailDomain: "x.test"}, 2000, 1000))
	want := `{"queries":[{"stateQuery":{"state":"USER_STATE_INACTIVE"}},{"orQuery":{"queries":[{"organizationIdQuery":{"organizationId":"1"}},{"organizationIdQuery":{"organizationId":"2"}}]}},{"emailQuery":{"emailAddress":"@x.test","method":"TEXT_QUERY_METHOD_ENDS_WITH_IGNORE_CASE"}}],"query":{"asc":true,"limit":1000,"offset":"2000"},"sortingColumn":"USER_FIELD_NAME_CREATION_DATE"}`
	if got != want {
		t.Errorf("ListUsersBody = %s, want %s", got, want)
	}
	var ev map[string]any
	_ = json.Unmarshal(discover.EventsBody(discover.ZitadelQuery{By: "9", Orgs: []string{"1"}}, time.Unix(0, 0), time.Unix(60, 0), 1000), &ev)
	for _, k := range []string{"eventTypes", "editorUserId", "resourceOwner", "range", "asc", "limit"} {
		if _, ok := ev[k]; !ok {
			t.Errorf("EventsBody lacks %q: %v", k, ev)
		}
	}
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2h":                   now.Add(-2 * time.Hour),
		"2026-11-30T14:02:00Z": time.Date(2026, 11, 30, 14, 2, 0, 0, time.UTC),
	} {
		got, err := discover.ParseTime(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v, want %v", in, got, err, want)
		}
	}
	if _, err := discover.ParseTime("yesterday", now); err == nil {
		t.Error("ParseTime(yesterday) = nil error, want one")
	}
}
