// This file shows how the worker and the CLI use a Client.

package stytch_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"reactivator/internal/fakeidp"
	"reactivator/jobs"
	"reactivator/worker/stytch"
)

func Example() {
	// A stand-in for Stytch; leave BaseURL empty to reach the real one for the project's environment.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v1/b2b/organizations/search" {
			_, _ = io.WriteString(w, `{"request_id":"request-id-test-1","organizations":[],"status_code":200}`)
			return
		}
		_, _ = io.WriteString(w, fakeidp.StytchSuccess("organization-test-1", "member-test-00000000-0000-4000-8000-000000000002"))
	}))
	defer srv.Close()

	c, err := stytch.New(stytch.Config{
		ProjectID: "project-test-00000000-0000-4000-8000-00000000000a",
		Secret:    "secret-test-from-STYTCH_SECRET",
		BaseURL:   srv.URL,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	if err := c.Check(ctx); errors.Is(err, jobs.ErrFatal) {
		fmt.Println("fix the configuration:", err)
		return
	}
	res := c.Reactivate(ctx, jobs.Row{Line: 2, Provider: jobs.Stytch, OrgID: "acme", MemberID: "member-test-00000000-0000-4000-8000-000000000002"})
	fmt.Println(res.Class, res.HTTPStatus, res.Called)

	// A row of the other environment never reaches Stytch.
	res = c.Reactivate(ctx, jobs.Row{Line: 3, Provider: jobs.Stytch, OrgID: "acme", MemberID: "member-live-00000000-0000-4000-8000-000000000002"})
	fmt.Println(res.Class, res.Called)
	// Output:
	// reactivated 200 true
	// rejected false
}

func ExampleClassify() {
	h := http.Header{"Retry-After": {"7"}}
	res := stytch.Classify(429, h, []byte(fakeidp.StytchError(429, "too_many_requests", "Too many requests")))
	fmt.Println(res.Class, res.ErrorType, res.RetryAfter, res.Ambiguous)
	// Output: transient too_many_requests 7s false
}
