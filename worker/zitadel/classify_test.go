// This file tests Classify on answers beyond the shared table, and fuzzes it.

package zitadel

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"reactivator/internal/fakeidp"
	"reactivator/jobs"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	html := func(s int) string { return strings.ReplaceAll(fakeidp.ProxyPage, "%d", http.StatusText(s)) }
	tests := []struct {
		name          string
		api           string
		rowOrg        bool
		status        int
		ct            string
		body          string
		want          jobs.Class
		wantType      string
		wantAmbiguous bool
		wantIn        string
	}{
		{name: "2xx html is not a confirmation", api: "v2", status: 200, ct: "text/html", body: "<html>welcome</html>", want: jobs.ClassTransient, wantAmbiguous: true},
		{name: "204 empty is not a confirmation", api: "v2", status: 204, want: jobs.ClassTransient, wantAmbiguous: true},
		{name: "2xx error body is not a confirmation", api: "v1", status: 200, body: fakeidp.ZitadelError(9, "User is not inactive", "COMMAND-6M0sf"), want: jobs.ClassTransient, wantAmbiguous: true},
		{name: "2xx connect body", api: "v2", status: 200, body: `{"details":{"sequence":"12","changeDate":"2026-11-23T17:37:45Z","resourceOwner":"1"}}`, want: jobs.ClassReactivated},
		{name: "numeric string code", api: "v2", status: 400, body: `{"code":"9","details":[{"id":"COMMAND-6M0sf"}]}`, want: jobs.ClassNotDeactivated, wantType: "COMMAND-6M0sf"},
		{name: "upper case connect code", api: "v2", status: 400, body: `{"code":"FAILED_PRECONDITION","details":[{"debug":{"id":"COMMAND-s5qqcz97hf"}}]}`, want: jobs.ClassNotDeactivated, wantType: "COMMAND-s5qqcz97hf"},
		{name: "connect not found", api: "v2", status: 404, body: `{"code":"not_found","message":"User could not be found (COMMAND-9hy5kzbuk6)","details":[{"type":"zitadel.v1.ErrorDetail","debug":{"id":"COMMAND-9hy5kzbuk6"}}]}`, want: jobs.ClassNotFound, wantType: "COMMAND-9hy5kzbuk6"},
		{name: "connect unauthenticated as 400", api: "v2", status: 400, body: `{"code":"unauthenticated","message":"auth header missing"}`, want: jobs.ClassFatal},
		{name: "known id with the message in another language", api: "v1", status: 400, body: fakeidp.ZitadelError(9, "Benutzer ist nicht inaktiv", "COMMAND-6M0sf"), want: jobs.ClassNotDeactivated, wantType: "COMMAND-6M0sf"},
		{name: "message text never decides", api: "v2", status: 400, body: fakeidp.ZitadelError(9, "User is not inactive", "COMMAND-new1"), want: jobs.ClassRejected, wantType: "COMMAND-new1"},
		{name: "not found text without id is a wrong host", api: "v2", status: 404, body: `{"code":5,"message":"User could not be found (COMMAND-9hy5kzbuk6)"}`, want: jobs.ClassFatal, wantIn: "ZITADEL_URL"},
		{name: "404 with a not-inactive id", api: "v2", status: 404, body: fakeidp.ZitadelError(5, "x", "COMMAND-6M0sf"), want: jobs.ClassFatal},
		{name: "id of the wrong type is skipped", api: "v2", status: 400, body: `{"code":9,"details":[{"id":42},{"id":"COMMAND-s5qqcz97hf"}]}`, want: jobs.ClassNotDeactivated, wantType: "COMMAND-s5qqcz97hf"},
		{name: "message of the wrong type is skipped", api: "v2", status: 404, body: `{"code":5,"message":7,"details":[{"id":"COMMAND-4M0sd","message":"gone"}]}`, want: jobs.ClassNotFound, wantType: "COMMAND-4M0sd"},
		{name: "details not a list", api: "v2", status: 400, body: `{"code":9,"details":"COMMAND-6M0sf"}`, want: jobs.ClassRejected},
		{name: "v2 unknown org with row org is still fatal", api: "v2", rowOrg: true, status: 403, body: fakeidp.ZitadelError(7, "Organisation doesn't exist", "AUTH-Bs7Ds"), want: jobs.ClassFatal, wantIn: "user.write"},
		{name: "v1 html 403 for the caller's org", api: "v1", status: 403, ct: "text/html", body: html(403), want: jobs.ClassFatal},
		{name: "v1 html 403 for a row's org", api: "v1", rowOrg: true, status: 403, ct: "text/html", body: html(403), want: jobs.ClassRejected},
		{name: "unknown default org names ZITADEL_ORG_ID", api: "v1", status: 403, body: fakeidp.ZitadelError(7, "Organisation doesn't exist", "AUTH-Bs7Ds"), want: jobs.ClassFatal, wantIn: "ZITADEL_ORG_ID"},
		{name: "401 advice", api: "v2", status: 401, body: fakeidp.ZitadelNoAuth, want: jobs.ClassFatal, wantIn: checkCredentialsAdvice},
		{name: "501 unimplemented", api: "v2", status: 501, body: `{"code":12,"message":"unknown service zitadel.user.v2.UserService"}`, want: jobs.ClassFatal, wantIn: "ZITADEL_API"},
		{name: "408 request timeout", api: "v2", status: 408, ct: "text/html", body: html(408), want: jobs.ClassTransient},
		{name: "504 gateway timeout", api: "v2", status: 504, ct: "text/html", body: html(504), want: jobs.ClassTransient, wantAmbiguous: true},
		{name: "code 14 behind a 400", api: "v2", status: 400, body: `{"code":14,"message":"unavailable"}`, want: jobs.ClassTransient, wantAmbiguous: true},
		{name: "409 already exists", api: "v2", status: 409, body: fakeidp.ZitadelError(6, "exists", "COMMAND-x1"), want: jobs.ClassRejected, wantType: "COMMAND-x1"},
		{name: "html 400", api: "v1", status: 400, ct: "text/html", body: html(400), want: jobs.ClassRejected, wantIn: "text/html"},
		{name: "status 0", api: "v2", status: 0, want: jobs.ClassFatal},
		{name: "long message is clipped but keeps the advice", api: "v2", status: 404, body: `{"code":5,"message":"` + strings.Repeat("é", 5000) + `"}`, want: jobs.ClassFatal, wantIn: "ZITADEL_URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tc.ct != "" {
				h.Set("Content-Type", tc.ct)
			}
			got := Classify(tc.api, tc.rowOrg, tc.status, h, []byte(tc.body))
			if got.Class != tc.want || got.Ambiguous != tc.wantAmbiguous {
				t.Errorf("Classify(%s) = %q ambiguous %v (%s), want %q ambiguous %v", tc.name, got.Class, got.Ambiguous, got.Message, tc.want, tc.wantAmbiguous)
			}
			if tc.wantType != "" && got.ErrorType != tc.wantType {
				t.Errorf("Classify(%s) error type = %q, want %q", tc.name, got.ErrorType, tc.wantType)
			}
			if !strings.Contains(got.Message, tc.wantIn) {
				t.Errorf("Classify(%s) message = %q, want it to contain %q", tc.name, got.Message, tc.wantIn)
			}
			if n := utf8.RuneCountInString(got.Message); n > maxMessageRunes {
				t.Errorf("Classify(%s) message has %d runes, want at most %d", tc.name, n, maxMessageRunes)
			}
		})
	}
}

// classes is every class a client may return.
var classes = map[jobs.Class]bool{
	jobs.ClassReactivated: true, jobs.ClassNotDeactivated: true, jobs.ClassUnverifiedEmail: true,
	jobs.ClassNotFound: true, jobs.ClassRejected: true, jobs.ClassTransient: true, jobs.ClassFatal: true,
}

func FuzzClassify(f *testing.F) {
	for _, c := range fakeidp.Cases {
		if c.Provider == jobs.Zitadel && c.Op == "" {
			f.Add(c.API, c.RowOrg, c.Status, c.ContentType, c.Header["Retry-After"], []byte(c.Body))
		}
	}
	f.Add("v1", true, 200, "", "", []byte(`{"details":[]}`))
	f.Add("v2", false, 404, "", "x", []byte(`{"code":"not_found","details":[{"debug":{"id":5}}]}`))
	f.Add("v3", false, 999, "", "-1", []byte(`{"code":1e400}`))
	f.Fuzz(func(t *testing.T, api string, rowOrg bool, status int, ct, retryAfter string, body []byte) {
		h := http.Header{}
		h.Set("Content-Type", ct)
		h.Set("Retry-After", retryAfter)
		h.Set("X-Request-Id", "req-1")
		got := Classify(api, rowOrg, status, h, body)
		if !classes[got.Class] {
			t.Fatalf("Classify(%d, %q) class = %q, want one of the seven", status, body, got.Class)
		}
		if status >= 200 && status < 300 && got.Class == jobs.ClassFatal {
			t.Fatalf("Classify(%d, %q) = fatal, want a 2xx never fatal", status, body)
		}
		if got.Class == jobs.ClassReactivated && (status < 200 || status >= 300) {
			t.Fatalf("Classify(%d, %q) = reactivated, want only a 2xx reactivated", status, body)
		}
		if got.Class == jobs.ClassNotFound && status == http.StatusNotFound &&
			!bytes.Contains(body, []byte("COMMAND-9hy5kzbuk6")) && !bytes.Contains(body, []byte("COMMAND-4M0sd")) && !bytes.Contains(body, []byte("COMMAND-k2unb")) {
			t.Fatalf("Classify(404, %q) = not_found without a user-not-found id", body)
		}
		if got.HTTPStatus != status || got.RequestID != "req-1" || !got.Called || got.RetryAfter < 0 {
			t.Fatalf("Classify(%d, %q) = %+v, want status, request id, called kept and no negative retry", status, body, got)
		}
		if !utf8.ValidString(got.Message) || utf8.RuneCountInString(got.Message) > maxMessageRunes {
			t.Fatalf("Classify(%d, %q) message %q is not valid UTF-8 of at most %d runes", status, body, got.Message, maxMessageRunes)
		}
	})
}
