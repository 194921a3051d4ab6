// This file defines Result, what a provider client returns for one reactivate call.

package jobs

import (
	"errors"
	"time"
)

// Result is one reactivate call's answer, classified. Both provider clients return it.
type Result struct {
	// Class says what the answer means.
	Class Class
	// HTTPStatus is the answer's status, 0 when no answer came (timeout, reset, refused before the call).
	HTTPStatus int
	// RequestID is the provider's request id (Stytch's body request_id, ZITADEL's X-Request-Id).
	RequestID string
	// ErrorType is Stytch's error_type or ZITADEL's error detail id (COMMAND-…, AUTH-…); empty on success.
	ErrorType string
	// Message is a short human text: the provider's message or the transport error. Never a secret.
	Message string
	// RetryAfter is the provider's Retry-After (seconds or an HTTP date), 0 when absent.
	RetryAfter time.Duration
	// Ambiguous is true when the call may have reached the provider without an answer saying so:
	// a timeout, a reset connection or a 5xx. A later "not deactivated" then confirms the change.
	Ambiguous bool
	// Called is false when the client refused the row before any request was sent.
	Called bool
	// Reason, when set, is the reason the row records instead of ErrorType (for example
	// ReasonNoPermissionInOrg for a ZITADEL 403 the worker must not pause on).
	Reason string
}

// ErrFatal is wrapped by errors that stop a provider's queue: refused credentials, a missing
// permission, a base URL that answers like no provider. Provider clients' Check wraps it.
var ErrFatal = errors.New("fatal provider error")
