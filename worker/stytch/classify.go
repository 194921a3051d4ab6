// Classify is responsible for turning one Stytch answer (status, headers, body) into a jobs.Result.

package stytch

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"reactivator/internal/httpapi"
	"reactivator/jobs"
)

// Hints appended to the message of a fatal answer: what the operator has to fix.
const (
	hintCredentials = "check STYTCH_PROJECT_ID and STYTCH_SECRET"
	hintEnvironment = "the project id and secret belong to different environments or the base URL is for the other one: check STYTCH_PROJECT_ID, STYTCH_SECRET and STYTCH_BASE_URL"
	hintBaseURL     = "wrong base URL, check STYTCH_BASE_URL"
	hintSession     = "the member session given lacks the permission to reactivate members: drop it or use another member's session"
	hintHTTPS       = "Stytch refuses plain http: use an https STYTCH_BASE_URL"
	hintForbidden   = "Stytch or a proxy in front of it refused the call: check STYTCH_PROJECT_ID, STYTCH_SECRET and STYTCH_BASE_URL"
)

// maxMessage bounds Result.Message, in runes: it lands in reports and logs.
const maxMessage = 300

// maxRequestID bounds Result.RequestID, in runes; Stytch's are about 50.
const maxRequestID = 100

// errorTypes maps every Stytch error_type of docs/providers.md to its class. An error_type
// decides the class whatever the HTTP status; a type not listed here falls back to the status.
var errorTypes = map[string]jobs.Class{
	"no_deleted_member_found_for_reactivation":     jobs.ClassNotDeactivated,
	"email_unverified_for_reactivation":            jobs.ClassUnverifiedEmail,
	"reactivation_email_belongs_to_another_member": jobs.ClassRejected,

	"member_not_found":                      jobs.ClassNotFound,
	"organization_not_found":                jobs.ClassNotFound,
	"member_does_not_exist_in_organization": jobs.ClassNotFound,
	"invalid_organization_slug":             jobs.ClassNotFound,
	"invalid_organization_external_id":      jobs.ClassNotFound,

	"invalid_organization_id":             jobs.ClassRejected,
	"invalid_id":                          jobs.ClassRejected,
	"bad_request":                         jobs.ClassRejected,
	"organization_suspended":              jobs.ClassRejected,
	"session_authorization_tenancy_error": jobs.ClassRejected,

	"unauthorized_credentials":          jobs.ClassFatal,
	"unauthorized_credentials_homepage": jobs.ClassFatal,
	"invalid_secret_authentication":     jobs.ClassFatal,
	"invalid_project_id_authentication": jobs.ClassFatal,
	"invalid_project_id":                jobs.ClassFatal,
	"unauthorized_project_id_live":      jobs.ClassFatal,
	"unauthorized_project_id_test":      jobs.ClassFatal,
	"session_authorization_error":       jobs.ClassFatal,
	"use_https":                         jobs.ClassFatal,

	"too_many_requests":     jobs.ClassTransient,
	"internal_server_error": jobs.ClassTransient,
}

// fatalHints says what to fix for each fatal error_type.
var fatalHints = map[string]string{
	"unauthorized_project_id_live": hintEnvironment,
	"unauthorized_project_id_test": hintEnvironment,
	"session_authorization_error":  hintSession,
	"use_https":                    hintHTTPS,
}

// errorBody is Stytch's error answer; request_id is also in every success answer.
type errorBody struct {
	StatusCode   int    `json:"status_code"`
	RequestID    string `json:"request_id"`
	ErrorType    string `json:"error_type"`
	ErrorMessage string `json:"error_message"`
}

// successBody is the part of Stytch's Reactivate Member answer that proves it came from Stytch.
type successBody struct {
	RequestID string `json:"request_id"`
	MemberID  string `json:"member_id"`
	Member    *struct {
		MemberID string `json:"member_id"`
		Status   string `json:"status"`
	} `json:"member"`
}

// Classify sorts one Stytch answer to Reactivate Member into a class (docs/providers.md).
// It reads nothing but its arguments; a Retry-After given as an HTTP date is measured against
// the answer's Date header, or the clock when there is none.
//
//   - 200 and 201 with a Stytch member in the body are reactivated. A 2xx without one (a captive
//     portal, a proxy that ate the body) proves nothing: transient and ambiguous, so the retry's
//     answer decides.
//   - Otherwise a known error_type decides, whatever the status.
//   - Without a known error_type the status decides: 401, 403, 404, 405, 407 and 3xx are fatal;
//     408, 429 and 5xx transient; any other 4xx rejected.
//
// 5xx answers and transient internal_server_error types are Ambiguous (the change may have been
// made); 429 is not. Message is the provider's error_message, or a short text for answers
// without one; it never holds the body of a non-JSON answer.
func Classify(status int, header http.Header, body []byte) jobs.Result {
	r := jobs.Result{HTTPStatus: status, Called: true}
	if status >= 200 && status < 300 {
		return classifySuccess(r, status, body)
	}

	var eb errorBody
	isJSON := json.Unmarshal(body, &eb) == nil
	if isJSON {
		r.RequestID = clean(eb.RequestID, maxRequestID)
		r.ErrorType = clean(eb.ErrorType, maxRequestID)
		r.Message = clean(eb.ErrorMessage, maxMessage)
	}
	if v := header.Get("Retry-After"); v != "" {
		r.RetryAfter = httpapi.ParseRetryAfter(v, answerTime(header))
	}

	if class, ok := errorTypes[r.ErrorType]; ok && r.ErrorType != "" {
		r.Class = class
		switch class {
		case jobs.ClassFatal:
			hint := fatalHints[r.ErrorType]
			if hint == "" {
				hint = hintCredentials
			}
			r.Message = withHint(r.Message, r.ErrorType, hint)
		case jobs.ClassTransient:
			// A rate limit refused the call before it ran; server trouble may have come after the change.
			r.Ambiguous = r.ErrorType != "too_many_requests" && (status >= 500 || r.ErrorType == "internal_server_error")
		}
		return r
	}

	if r.Message == "" {
		r.Message = statusText(status, header, isJSON)
	}
	switch {
	case status >= 300 && status < 400:
		// A redirect of an API call means the base URL points at a web page or an old host.
		// The client never follows it: credentials must not travel to wherever it points.
		r.Class = jobs.ClassFatal
		r.Message = withHint(r.Message, "", hintBaseURL)
	case status == http.StatusUnauthorized, status == http.StatusProxyAuthRequired:
		r.Class = jobs.ClassFatal
		r.Message = withHint(r.Message, r.ErrorType, hintCredentials)
	case status == http.StatusForbidden:
		// An unknown 403 is fatal. Stytch's confirmed 403s either stop every row alike
		// (session_authorization_error, use_https) or are known types handled above; a 403 without
		// a known type is most likely a WAF, proxy or permission refusal that every following row
		// would get too. Pausing costs the operator one `resume`; guessing "rejected" could burn
		// the whole run.
		r.Class = jobs.ClassFatal
		r.Message = withHint(r.Message, r.ErrorType, hintForbidden)
	case status == http.StatusNotFound && r.ErrorType == "":
		// Stytch always names the missing thing in error_type; a bare 404 is a wrong host or path
		// and would otherwise mark every row not_found.
		r.Class = jobs.ClassFatal
		r.Message = withHint(r.Message, "", hintBaseURL)
	case status == http.StatusMethodNotAllowed && r.ErrorType == "":
		// Stytch's route takes PUT: a 405 comes from something else answering at the base URL.
		r.Class = jobs.ClassFatal
		r.Message = withHint(r.Message, "", hintBaseURL)
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests:
		r.Class = jobs.ClassTransient
	case status >= 400 && status < 500:
		r.Class = jobs.ClassRejected
	case status >= 500 && status < 600:
		r.Class = jobs.ClassTransient
		r.Ambiguous = true
	default:
		// 1xx or a status outside HTTP's range: nothing says what happened.
		r.Class = jobs.ClassTransient
		r.Ambiguous = true
	}
	return r
}

// classifySuccess classifies a 2xx answer: reactivated only when the body shows a Stytch member.
func classifySuccess(r jobs.Result, status int, body []byte) jobs.Result {
	var sb successBody
	err := json.Unmarshal(body, &sb)
	if err == nil {
		r.RequestID = clean(sb.RequestID, maxRequestID)
	}
	memberID := sb.MemberID
	if memberID == "" && sb.Member != nil {
		memberID = sb.Member.MemberID
	}
	switch {
	case err != nil || memberID == "":
		// Something answered 2xx without a Stytch member: the call may or may not have reached
		// Stytch. A retry gets a real answer ("not deactivated" then confirms the change).
		r.Class = jobs.ClassTransient
		r.Ambiguous = true
		r.Message = fmt.Sprintf("HTTP %d without a Stytch member in the body: retrying to learn the outcome", status)
	case status != http.StatusOK && status != http.StatusCreated:
		// Stytch answers 200; a member in another 2xx is odd enough for the operator to look at.
		r.Class = jobs.ClassRejected
		r.Message = fmt.Sprintf("unexpected HTTP %d with a member body: check the member in Stytch", status)
	default:
		r.Class = jobs.ClassReactivated
		if sb.Member != nil && sb.Member.Status != "" {
			r.Message = "member status " + clean(sb.Member.Status, 40)
		}
	}
	return r
}

// answerTime is the answer's Date header, the reference for a Retry-After date; the clock without one.
func answerTime(h http.Header) time.Time {
	if t, err := http.ParseTime(h.Get("Date")); err == nil {
		return t
	}
	return time.Now()
}

// statusText describes an answer that carries no error_message.
func statusText(status int, h http.Header, isJSON bool) string {
	s := fmt.Sprintf("HTTP %d", status)
	if t := http.StatusText(status); t != "" {
		s += " " + t
	}
	if !isJSON {
		ct := h.Get("Content-Type")
		if i := strings.IndexByte(ct, ';'); i >= 0 {
			ct = ct[:i]
		}
		if ct = clean(strings.TrimSpace(ct), 60); ct != "" {
			s += " (" + ct + " answer, not Stytch's JSON)"
		} else {
			s += " (not Stytch's JSON)"
		}
	}
	if status >= 300 && status < 400 {
		if loc := clean(h.Get("Location"), 200); loc != "" {
			s += " to " + loc
		}
	}
	return s
}

// withHint appends what to fix to a fatal answer's message, naming the error type when known.
func withHint(msg, errorType, hint string) string {
	switch {
	case msg == "" && errorType == "":
		return hint
	case msg == "":
		return errorType + ": " + hint
	}
	return msg + ": " + hint
}

// clean makes provider text safe for a one-line report cell: valid UTF-8, no control characters,
// at most max runes.
func clean(s string, max int) string {
	if s == "" {
		return ""
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	n := 0
	for _, c := range s {
		if n == max {
			b.WriteRune('…')
			break
		}
		if unicode.IsControl(c) {
			c = ' '
		}
		b.WriteRune(c)
		n++
	}
	return strings.TrimSpace(b.String())
}
