// This file holds the fake ZITADEL's users as a real server shows them: the v2 and v1 reads
// (GET /v2/users/{id}, GET /management/v1/users/{id}) and the version (sequence, change date)
// that every change moves (docs/providers.md, "Reading a user").

package fakeidp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// ZitadelUser is a user of the fake ZITADEL with everything a read shows. Zero fields get
// defaults from AddZitadelUser.
type ZitadelUser struct {
	ID, OrgID string
	// State is one of ZitadelActive, ZitadelInactive, ZitadelLocked, ZitadelInitial, ZitadelDeleted.
	State string
	// UserName defaults to "user-<id>".
	UserName string
	// Machine makes a machine user: no profile, no email.
	Machine bool
	// Email defaults to "<user name>@example.com" for a human; EmailVerified is false for an
	// initial user by default (as a real initial user has an unverified e-mail).
	Email         string
	EmailVerified bool
	// GivenName and FamilyName default to "T2" and "User", as in the real transcripts.
	GivenName, FamilyName string
	// Sequence is the user's version; it defaults to the real server's after creation (1 for an
	// initial or machine user, 2 for a password user) plus one for a deactivate or lock.
	Sequence uint64
	// Created and Changed default to the fake's clock.
	Created, Changed time.Time
}

// zitadelUser is a user's state inside the fake.
type zitadelUser struct {
	ZitadelUser
	emailSet bool // Email given explicitly: verified as given
}

// AddZitadelUser adds (or replaces) a user with all its fields, adding its organization. It
// panics on an unknown state.
func (z *Zitadel) AddZitadelUser(u ZitadelUser) {
	switch u.State {
	case ZitadelActive, ZitadelInactive, ZitadelLocked, ZitadelInitial, ZitadelDeleted:
	default:
		panic(fmt.Sprintf("fakeidp: unknown ZITADEL user state %q", u.State))
	}
	if u.UserName == "" {
		u.UserName = "user-" + u.ID
	}
	if u.GivenName == "" && u.FamilyName == "" {
		u.GivenName, u.FamilyName = "T2", "User"
	}
	emailSet := u.Email != ""
	if !u.Machine && !emailSet {
		u.Email = u.UserName + "@example.com"
		u.EmailVerified = u.State != ZitadelInitial
	}
	if u.Sequence == 0 {
		u.Sequence = 2
		if u.Machine || u.State == ZitadelInitial {
			u.Sequence = 1
		}
		if u.State == ZitadelInactive || u.State == ZitadelLocked || u.State == ZitadelDeleted {
			u.Sequence++
		}
	}
	now := z.now().Truncate(time.Microsecond) // the real server keeps microseconds
	if u.Created.IsZero() {
		u.Created = now
	}
	if u.Changed.IsZero() {
		u.Changed = now
	}
	z.state.Lock()
	defer z.state.Unlock()
	z.orgs[u.OrgID] = true
	z.users[u.ID] = &zitadelUser{ZitadelUser: u, emailSet: emailSet}
}

// User returns a copy of a user, false for an unknown one.
func (z *Zitadel) User(userID string) (ZitadelUser, bool) {
	z.state.RLock()
	defer z.state.RUnlock()
	u := z.users[userID]
	if u == nil {
		return ZitadelUser{}, false
	}
	return u.ZitadelUser, true
}

// change moves a user to state: its sequence goes up by one and its change date to now, as a
// real change does. z.state must be held.
func (z *Zitadel) change(u *zitadelUser, state string) {
	u.State = state
	u.Sequence++
	u.Changed = z.now().Truncate(time.Microsecond)
}

// changeBody is ZITADEL's answer to a change: the user's new version.
func changeBody(u *zitadelUser) string {
	return fmt.Sprintf(`{"details":{"sequence":"%d", "changeDate":%q, "resourceOwner":%q}}`, u.Sequence, protoTime(u.Changed), u.OrgID)
}

// protoTime formats t as protojson formats a Timestamp: UTC, with 0, 3, 6 or 9 fraction digits.
func protoTime(t time.Time) string {
	t = t.UTC()
	ns := t.Nanosecond()
	switch {
	case ns == 0:
		return t.Format("2006-01-02T15:04:05Z")
	case ns%1e6 == 0:
		return t.Format("2006-01-02T15:04:05.000Z")
	case ns%1e3 == 0:
		return t.Format("2006-01-02T15:04:05.000000Z")
	}
	return t.Format("2006-01-02T15:04:05.000000000Z")
}

// zitadelStates are the v1 and v2 names of the fake's states.
var zitadelStates = map[string]string{
	ZitadelActive: "USER_STATE_ACTIVE", ZitadelInactive: "USER_STATE_INACTIVE",
	ZitadelLocked: "USER_STATE_LOCKED", ZitadelInitial: "USER_STATE_INITIAL",
}

type v2Details struct {
	Sequence      string `json:"sequence"`
	ChangeDate    string `json:"changeDate"`
	ResourceOwner string `json:"resourceOwner"`
	CreationDate  string `json:"creationDate"`
}

type v1Details struct {
	Sequence      string `json:"sequence"`
	CreationDate  string `json:"creationDate"`
	ChangeDate    string `json:"changeDate"`
	ResourceOwner string `json:"resourceOwner"`
}

type zMachine struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

type v2Human struct {
	Profile struct {
		GivenName         string `json:"givenName"`
		FamilyName        string `json:"familyName"`
		NickName          string `json:"nickName"`
		DisplayName       string `json:"displayName"`
		PreferredLanguage string `json:"preferredLanguage"`
		Gender            string `json:"gender"`
	} `json:"profile"`
	Email struct {
		Email      string `json:"email"`
		IsVerified bool   `json:"isVerified,omitempty"`
	} `json:"email"`
	Phone           struct{} `json:"phone"`
	PasswordChanged string   `json:"passwordChanged,omitempty"`
}

type v1Human struct {
	Profile struct {
		FirstName         string `json:"firstName"`
		LastName          string `json:"lastName"`
		DisplayName       string `json:"displayName"`
		PreferredLanguage string `json:"preferredLanguage"`
	} `json:"profile"`
	Email struct {
		Email           string `json:"email"`
		IsEmailVerified bool   `json:"isEmailVerified,omitempty"`
	} `json:"email"`
	Phone           struct{} `json:"phone"`
	PasswordChanged string   `json:"passwordChanged,omitempty"`
}

// v2UserBody renders GET /v2/users/{id} as the real server does.
func v2UserBody(u ZitadelUser) string {
	d := v2Details{Sequence: fmt.Sprint(u.Sequence), ChangeDate: protoTime(u.Changed), ResourceOwner: u.OrgID, CreationDate: protoTime(u.Created)}
	type user struct {
		UserID             string    `json:"userId"`
		Details            v2Details `json:"details"`
		State              string    `json:"state"`
		Username           string    `json:"username"`
		LoginNames         []string  `json:"loginNames"`
		PreferredLoginName string    `json:"preferredLoginName"`
		Human              *v2Human  `json:"human,omitempty"`
		Machine            *zMachine `json:"machine,omitempty"`
	}
	out := struct {
		Details v2Details `json:"details"`
		User    user      `json:"user"`
	}{Details: d, User: user{UserID: u.ID, Details: d, State: zitadelStates[u.State], Username: u.UserName,
		LoginNames: []string{u.UserName}, PreferredLoginName: u.UserName}}
	if u.Machine {
		out.User.Machine = &zMachine{Name: u.GivenName, Description: u.FamilyName}
	} else {
		h := &v2Human{}
		h.Profile.GivenName, h.Profile.FamilyName = u.GivenName, u.FamilyName
		h.Profile.DisplayName = u.GivenName + " " + u.FamilyName
		h.Profile.PreferredLanguage, h.Profile.Gender = "und", "GENDER_UNSPECIFIED"
		h.Email.Email, h.Email.IsVerified = u.Email, u.EmailVerified
		if u.State != ZitadelInitial {
			h.PasswordChanged = protoTime(u.Created)
		}
		out.User.Human = h
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// v1UserBody renders GET /management/v1/users/{id} as the real server does.
func v1UserBody(u ZitadelUser) string {
	type user struct {
		ID                 string    `json:"id"`
		Details            v1Details `json:"details"`
		State              string    `json:"state"`
		UserName           string    `json:"userName"`
		LoginNames         []string  `json:"loginNames"`
		PreferredLoginName string    `json:"preferredLoginName"`
		Human              *v1Human  `json:"human,omitempty"`
		Machine            *zMachine `json:"machine,omitempty"`
	}
	out := struct {
		User user `json:"user"`
	}{User: user{ID: u.ID, Details: v1Details{Sequence: fmt.Sprint(u.Sequence), CreationDate: protoTime(u.Created),
		ChangeDate: protoTime(u.Changed), ResourceOwner: u.OrgID}, State: zitadelStates[u.State], UserName: u.UserName,
		LoginNames: []string{u.UserName}, PreferredLoginName: u.UserName}}
	if u.Machine {
		out.User.Machine = &zMachine{Name: u.GivenName, Description: u.FamilyName}
	} else {
		h := &v1Human{}
		h.Profile.FirstName, h.Profile.LastName = u.GivenName, u.FamilyName
		h.Profile.DisplayName = u.GivenName + " " + u.FamilyName
		h.Profile.PreferredLanguage = "und"
		h.Email.Email, h.Email.IsEmailVerified = u.Email, u.EmailVerified
		if u.State != ZitadelInitial {
			h.PasswordChanged = protoTime(u.Created)
		}
		out.User.Human = h
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// zReadNotFound is the read's answer for a removed or never-existing user, on v1 and v2.
var zReadNotFound = ZitadelError(5, "User could not be found", "QUERY-Dfbg2")

// read serves GET /v2/users/{id} and GET /management/v1/users/{id}: reads meet neither faults nor
// the rate limit. v2 needs read permission in the user's organization; v1 works in the acting
// organization (the caller's or x-zitadel-orgid) and finds only users of it.
func (z *Zitadel) read(w http.ResponseWriter, r *http.Request, api zitadelAPI, rawID string) {
	p, org, ok := z.authorize(w, r, api)
	if !ok {
		return
	}
	id, err := url.PathUnescape(rawID)
	if err != nil {
		id = rawID
	}
	status, body := z.readAnswer(p, api, org, id)
	z.reply(w, &zHeaders[api][b2i(status == http.StatusOK)], status, body)
}

func (z *Zitadel) readAnswer(p principal, api zitadelAPI, org, id string) (int, string) {
	z.state.RLock()
	defer z.state.RUnlock()
	if st, body, denied := z.denied(p, api, permRead, org, true); denied {
		return st, body
	}
	u := z.users[id]
	if u == nil || u.State == ZitadelDeleted || api == apiV1 && u.OrgID != org {
		return http.StatusNotFound, zReadNotFound
	}
	if st, body, denied := z.denied(p, api, permRead, u.OrgID, false); denied {
		return st, body
	}
	if api == apiV1 {
		return http.StatusOK, v1UserBody(u.ZitadelUser)
	}
	return http.StatusOK, v2UserBody(u.ZitadelUser)
}
