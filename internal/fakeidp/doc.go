// Package fakeidp provides stateful fake Stytch B2B and ZITADEL servers that answer over real HTTP
// with the providers' real bodies and headers (docs/providers.md; the ZITADEL bodies as a real
// server sent them), and inject faults (latency, 5xx, dropped connections, stalls, rate limits) for
// tests, the demo and the benchmarks.
//
// Both fakes are http.Handlers. Serve them with Serve, which starts an httptest server on loopback
// and returns its base URL and a close function that also ends stalled calls:
//
//	st := fakeidp.NewStytch("project-test-…", "secret")
//	st.AddOrg("organization-test-…", "acme")
//	st.AddMember("organization-test-…", "member-test-…", "deleted", true)
//	base, stop := fakeidp.Serve(st)
//	defer stop()
//
// A ZITADEL fake chooses its instance by the Host header, as ZITADEL does: NewZitadel("127.0.0.1")
// accepts any port of that host (so it fits Serve's random port), NewZitadel("") any Host.
//
// Reads (ZITADEL GET /v2/users/{id} and /management/v1/users/{id}, Stytch dangerously_get) and
// the ZITADEL permission and membership look-ups answer from state; deactivate (ZITADEL) and
// delete member (Stytch) are handled as reactivate calls below, and the ZITADEL fake checks
// roles per service user (AddServiceUser) in the real server's order.
//
// Every reactivate request is counted when it arrives (TotalCalls, Histogram, MaxPerSecond),
// whatever its answer. It then goes through, in order: the injected Latency, the rate limit
// (429, nothing applied), credentials (401; on ZITADEL also the x-zitadel-orgid check, 403
// AUTH-Bs7Ds), the account's scripted answers (Script, sent verbatim), an injected 5xx (nothing
// applied), the account's state (the change is applied), and an injected drop (the connection is
// closed without an answer) or stall (the answer is held back for Faults.Stall, or until the
// client goes away). Calls counts, per account, the calls that got past credentials and the rate
// limit. Only reactivate calls meet faults and the rate limit; search, users/me and the token
// endpoint always answer from state.
//
// Every ZITADEL answer carries a fresh X-Request-Id and the headers of the real transcripts for
// its API (v1 or v2); Stytch's request id is in the body, request-id-test-… or request-id-live-….
// Scripted answers are sent verbatim, headers included, so they carry the table's request ids.
// Tests inside this package may replace a fake's clock (the now field) before serving it.
//
// cases.go holds the table of real provider answers; the fakes build their bodies with its
// helpers, and their tests check that every answer a fake can produce from state equals the
// table's, request ids aside.
package fakeidp
