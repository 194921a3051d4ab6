// This file tests find's request: what Validate refuses before any call, and what Print says.

package discover_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"reactivator/internal/discover"
	"reactivator/jobs"
)

func TestRequestValidate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		r       discover.Request
		wantErr string // "" valid
		is      error
	}{
		{name: "zitadel, no filter", r: discover.Request{Provider: jobs.Zitadel, Output: "x.csv"}},
		{name: "zitadel, window of durations", r: discover.Request{Provider: jobs.Zitadel, Output: "x.csv", After: "2h", Before: "1h"}},
		{name: "no output", r: discover.Request{Provider: jobs.Zitadel}, wantErr: "-o FILE.csv is required"},
		{name: "window the wrong way", r: discover.Request{Provider: jobs.Zitadel, Output: "x.csv", After: "1h", Before: "2h"}, is: discover.ErrWindow},
		{name: "unreadable time", r: discover.Request{Provider: jobs.Zitadel, Output: "x.csv", Before: "yesterday"}, wantErr: "--deactivated-before: \"yesterday\""},
		{name: "email address, not domain", r: discover.Request{Provider: jobs.Zitadel, Output: "x.csv", EmailDomain: "a@example.com"}, wantErr: "--email-domain"},
		{name: "stytch with an org", r: discover.Request{Provider: jobs.Stytch, Output: "x.csv", Orgs: []string{"acme"}}},
		{name: "stytch without org", r: discover.Request{Provider: jobs.Stytch, Output: "x.csv"}, wantErr: "--org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.r.Validate(now)
			switch {
			case tt.wantErr == "" && tt.is == nil && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			case tt.is != nil && !errors.Is(err, tt.is):
				t.Errorf("Validate() = %v, want %v", err, tt.is)
			}
		})
	}
}

func TestPrint(t *testing.T) {
	t.Parallel()
	res := &discover.Result{Provider: "zitadel", Rows: [][]string{{"1"}, {"2"}}, Calls: 3}
	var b bytes.Buffer
	if err := discover.Print(&b, &discover.Request{Output: "found.csv", JSON: true}, res); err != nil {
		t.Fatal(err)
	}
	var got discover.Summary
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("Print(JSON) = %q: %v", b.String(), err)
	}
	if want := (discover.Summary{Accounts: 2, Calls: 3, File: "found.csv", Provider: "zitadel"}); got != want {
		t.Errorf("Print(JSON) = %+v, want %+v", got, want)
	}
	b.Reset()
	_ = discover.Print(&b, &discover.Request{Output: "found.csv"}, &discover.Result{Provider: "stytch"})
	if want := "found no stytch account to restore: found.csv has the header only\n"; b.String() != want {
		t.Errorf("Print(no rows) = %q, want %q", b.String(), want)
	}
}
