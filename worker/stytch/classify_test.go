// This file tests Classify on answers beyond fakeidp.Cases, and fuzzes it.

package stytch_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"reactivator/internal/fakeidp"
	"reactivator/jobs"
	"reactivator/worker/stytch"
)

func TestClassifyCases(t *testing.T) {
	t.Parallel()
	for _, tc := range stytchCases() {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for k, v := range tc.Header {
				h.Set(k, v)
			}
			got := stytch.Classify(tc.Status, h, []byte(tc.Body))
			if got.Class != tc.Want || got.ErrorType != tc.WantType {
				t.Errorf("Classify(%d, %s) = {%q, %q}, want {%q, %q}", tc.Status, tc.Name, got.Class, got.ErrorType, tc.Want, tc.WantType)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	member := fakeidp.StytchSuccess("organization-test-1", "member-test-2")
	serr := fakeidp.StytchError
	tests := []struct {
		name      string
		status    int
		header    http.Header
		body      string
		want      jobs.Class
		wantType  string
		wantAmb   bool
		wantInMsg string
	}{
		{name: "200 member", status: 200, body: member, want: jobs.ClassReactivated, wantInMsg: "active"},
		{name: "200 member id only", status: 200, body: `{"member_id":"member-test-2"}`, want: jobs.ClassReactivated},
		{name: "200 html captive portal", status: 200, body: "<html>login</html>", want: jobs.ClassTransient, wantAmb: true},
		{name: "200 empty object", status: 200, body: `{}`, want: jobs.ClassTransient, wantAmb: true},
		{name: "200 empty body", status: 200, body: "", want: jobs.ClassTransient, wantAmb: true},
		{name: "200 error body", status: 200, body: serr(404, "member_not_found", "x"), want: jobs.ClassTransient, wantAmb: true},
		{name: "202 member", status: 202, body: member, want: jobs.ClassRejected, wantInMsg: "202"},
		{name: "204", status: 204, want: jobs.ClassTransient, wantAmb: true},
		{name: "type wins over status", status: 500, body: serr(500, "no_deleted_member_found_for_reactivation", "x"), want: jobs.ClassNotDeactivated, wantType: "no_deleted_member_found_for_reactivation"},
		{name: "credentials type at 400", status: 400, body: serr(400, "unauthorized_credentials", "x"), want: jobs.ClassFatal, wantType: "unauthorized_credentials", wantInMsg: "STYTCH_SECRET"},
		{name: "wrong environment hint", status: 401, body: serr(401, "unauthorized_project_id_test", "x"), want: jobs.ClassFatal, wantType: "unauthorized_project_id_test", wantInMsg: "STYTCH_BASE_URL"},
		{name: "use_https hint", status: 403, body: serr(403, "use_https", "x"), want: jobs.ClassFatal, wantType: "use_https", wantInMsg: "https"},
		{name: "unknown type 403", status: 403, body: serr(403, "some_new_forbidden", "x"), want: jobs.ClassFatal, wantType: "some_new_forbidden"},
		{name: "html 403 from a WAF", status: 403, header: http.Header{"Content-Type": {"text/html"}}, body: "<html>blocked</html>", want: jobs.ClassFatal, wantInMsg: "text/html"},
		{name: "unknown type 404", status: 404, body: serr(404, "some_new_missing_thing", "x"), want: jobs.ClassRejected, wantType: "some_new_missing_thing"},
		{name: "405 without type", status: 405, body: "", want: jobs.ClassFatal, wantInMsg: "STYTCH_BASE_URL"},
		{name: "407 proxy auth", status: 407, body: "", want: jobs.ClassFatal},
		{name: "408", status: 408, body: "", want: jobs.ClassTransient},
		{name: "409 unknown", status: 409, body: `{"error_type":"conflict_thing"}`, want: jobs.ClassRejected, wantType: "conflict_thing"},
		{name: "html 400", status: 400, body: "<html>400</html>", want: jobs.ClassRejected},
		{name: "301 redirect", status: 301, header: http.Header{"Location": {"https://stytch.com/"}}, want: jobs.ClassFatal, wantInMsg: "https://stytch.com/"},
		{name: "304", status: 304, want: jobs.ClassFatal},
		{name: "429 is not ambiguous", status: 429, body: serr(429, "too_many_requests", "x"), want: jobs.ClassTransient, wantType: "too_many_requests"},
		{name: "internal_server_error at 400 is ambiguous", status: 400, body: serr(400, "internal_server_error", "x"), want: jobs.ClassTransient, wantType: "internal_server_error", wantAmb: true},
		{name: "html 504", status: 504, body: "<html>504</html>", want: jobs.ClassTransient, wantAmb: true},
		{name: "status 0", status: 0, want: jobs.ClassTransient, wantAmb: true},
		{name: "status 199", status: 199, want: jobs.ClassTransient, wantAmb: true},
		{name: "status 700", status: 700, want: jobs.ClassTransient, wantAmb: true},
		{name: "error_type not a string", status: 400, body: `{"error_type":7,"request_id":"r"}`, want: jobs.ClassRejected},
		{name: "json array", status: 400, body: `[1,2]`, want: jobs.ClassRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			got := stytch.Classify(tt.status, h, []byte(tt.body))
			if got.Class != tt.want || got.ErrorType != tt.wantType || got.Ambiguous != tt.wantAmb {
				t.Errorf("Classify(%d, %.60q) = {%q, %q, ambiguous %v}, want {%q, %q, ambiguous %v} (message %q)",
					tt.status, tt.body, got.Class, got.ErrorType, got.Ambiguous, tt.want, tt.wantType, tt.wantAmb, got.Message)
			}
			if !strings.Contains(got.Message, tt.wantInMsg) {
				t.Errorf("Classify(%d, %.60q) Message = %q, want it to contain %q", tt.status, tt.body, got.Message, tt.wantInMsg)
			}
			if got.Class != jobs.ClassReactivated && got.Message == "" {
				t.Errorf("Classify(%d, %.60q) Message is empty, want a description", tt.status, tt.body)
			}
			if got.HTTPStatus != tt.status || !got.Called {
				t.Errorf("Classify(%d) = {HTTPStatus %d, Called %v}, want {%d, true}", tt.status, got.HTTPStatus, got.Called, tt.status)
			}
		})
	}
}

func TestClassifyRetryAfter(t *testing.T) {
	t.Parallel()
	date := time.Date(2026, 11, 23, 17, 37, 45, 0, time.UTC)
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"seconds", http.Header{"Retry-After": {"7"}}, 7 * time.Second},
		{"http date against the answer's Date", http.Header{"Retry-After": {date.Add(20 * time.Second).Format(http.TimeFormat)}, "Date": {date.Format(http.TimeFormat)}}, 20 * time.Second},
		{"http date in the past", http.Header{"Retry-After": {date.Add(-time.Minute).Format(http.TimeFormat)}, "Date": {date.Format(http.TimeFormat)}}, 0},
		{"garbage", http.Header{"Retry-After": {"soon"}}, 0},
		{"absent", http.Header{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := stytch.Classify(429, tt.header, []byte(fakeidp.StytchError(429, "too_many_requests", "x")))
			if got.RetryAfter != tt.want {
				t.Errorf("Classify(429, %v) RetryAfter = %v, want %v", tt.header, got.RetryAfter, tt.want)
			}
		})
	}
}

func TestClassifyCleansProviderText(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 5000)
	body := `{"status_code":400,"request_id":"req\u0000\nid","error_type":"bad_request","error_message":"line1\nline2\u001b[31m` + long + `"}`
	got := stytch.Classify(400, http.Header{}, []byte(body))
	if strings.ContainsFunc(got.Message, unicode.IsControl) || strings.ContainsFunc(got.RequestID, unicode.IsControl) {
		t.Errorf("Classify() = {Message %.40q, RequestID %q}, want no control characters", got.Message, got.RequestID)
	}
	if n := utf8.RuneCountInString(got.Message); n > 301 {
		t.Errorf("Classify() Message has %d runes, want at most 301", n)
	}
	if !strings.HasPrefix(got.Message, "line1 line2") {
		t.Errorf("Classify() Message = %.40q, want it to start with %q", got.Message, "line1 line2")
	}
}

func TestClassifyNonJSONKeepsBodyOut(t *testing.T) {
	t.Parallel()
	got := stytch.Classify(502, http.Header{"Content-Type": {"text/html; charset=utf-8"}}, []byte("<html>secret internal hostname db-7.corp</html>"))
	if strings.Contains(got.Message, "db-7") {
		t.Errorf("Classify(502, html) Message = %q, want no body text", got.Message)
	}
	if !strings.Contains(got.Message, "502") || !strings.Contains(got.Message, "text/html") {
		t.Errorf("Classify(502, html) Message = %q, want the status and content type", got.Message)
	}
}

func FuzzClassify(f *testing.F) {
	for _, c := range stytchCases() {
		f.Add(c.Status, c.Header["Retry-After"], c.ContentType, []byte(c.Body))
	}
	f.Add(200, "", "", []byte(`{"member":{"member_id":"m","status":"deleted"}}`))
	f.Add(204, "Wed, 21 Oct 2015 07:28:00 GMT", "", []byte{})
	f.Add(-1, "1e308", "text/plain", []byte{0xff, 0xfe})
	valid := map[jobs.Class]bool{}
	for _, c := range []jobs.Class{jobs.ClassReactivated, jobs.ClassNotDeactivated, jobs.ClassUnverifiedEmail,
		jobs.ClassNotFound, jobs.ClassRejected, jobs.ClassTransient, jobs.ClassFatal} {
		valid[c] = true
	}
	f.Fuzz(func(t *testing.T, status int, retryAfter, contentType string, body []byte) {
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		h.Set("Content-Type", contentType)
		got := stytch.Classify(status, h, body)
		if !valid[got.Class] {
			t.Fatalf("Classify(%d, %q) Class = %q, want one of the 7 classes", status, body, got.Class)
		}
		if status >= 200 && status < 300 && (got.Class == jobs.ClassFatal || got.Class == jobs.ClassNotFound) {
			t.Fatalf("Classify(%d, %q) Class = %q, want a 2xx never fatal or not_found", status, body, got.Class)
		}
		if got.HTTPStatus != status || !got.Called || got.RetryAfter < 0 {
			t.Fatalf("Classify(%d) = {HTTPStatus %d, Called %v, RetryAfter %v}, want {%d, true, >= 0}", status, got.HTTPStatus, got.Called, got.RetryAfter, status)
		}
		if !utf8.ValidString(got.Message) || strings.ContainsFunc(got.Message, unicode.IsControl) {
			t.Fatalf("Classify(%d, %q) Message = %q, want valid UTF-8 without control characters", status, body, got.Message)
		}
	})
}
