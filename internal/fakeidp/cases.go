// This file is the one table of provider answers that the clients' classifiers and the fake
// providers are both tested against, so the two cannot drift apart. Bodies are the providers'
// real ones (docs/providers.md and the real ZITADEL transcripts).

package fakeidp

import (
	"fmt"
	"time"

	"reactivator/jobs"
)

// Case is one provider answer and the class a client must give it.
type Case struct {
	// Name is unique and reads as a test name.
	Name     string
	Provider jobs.Provider
	// API is "v1" or "v2" for ZITADEL, "" for Stytch.
	API string
	// RowOrg is true when the ZITADEL row carries its own org_id (v1 sends it as x-zitadel-orgid).
	RowOrg bool
	Status int
	// Header holds the answer's headers besides Content-Type.
	Header map[string]string
	// ContentType defaults to application/json.
	ContentType string
	Body        string
	// Op is the call the answer is to: "" a reactivate, OpRead a read of one account.
	Op string
	// Perms, for a ZITADEL answer, is who the caller is as the permission look-ups answer it
	// (ZitadelProbeAnswer): "" not asked, PermsSomewhere, PermsNowhere or PermsNoRole.
	Perms string
	// Want is the class a client must give the answer; WantType the error type or id it must report.
	// For a read, Want is "" when the read gives an account, ClassFatal when it gives an error
	// wrapping jobs.ErrFatal and ClassTransient when it gives another error.
	Want     jobs.Class
	WantType string
	// WantAccount is the account a read must give (Want ""); its RequestID is not compared.
	WantAccount jobs.Account
}

// The service users of the real transcripts, as Case.Perms names them.
const (
	// PermsSomewhere is ORG_USER_MANAGER of its own organisation and ORG_OWNER_VIEWER of another.
	PermsSomewhere = "org_user_manager"
	// PermsNowhere is ORG_OWNER_VIEWER of its own organisation: it may read, not write.
	PermsNowhere = "viewer"
	// PermsNoRole has no role at all.
	PermsNoRole = "no_role"
	// PermsInstance is IAM_USER_MANAGER.
	PermsInstance = "iam_user_manager"
)

// ZitadelProbeAnswer is the real server's answer to the permission look-ups of the service user
// perms: path is /auth/v1/memberships/me/_search or /auth/v1/permissions/zitadel/me/_search,
// org the x-zitadel-orgid header ("" the service user's own organisation, the real transcripts'
// default one). ok is false for another path.
func ZitadelProbeAnswer(perms, path, org string) (body string, ok bool) {
	switch path {
	case "/auth/v1/memberships/me/_search":
		return map[string]string{PermsSomewhere: zMembershipsOrgUserManager, PermsNowhere: zMembershipsViewer,
			PermsNoRole: zMembershipsNone, PermsInstance: zMembershipsIAMUserManager}[perms], true
	case "/auth/v1/permissions/zitadel/me/_search":
		own := org == "" || org == zDefaultOrg
		switch {
		case perms == PermsInstance:
			return zPermsIAMUserManager, true
		case perms == PermsSomewhere && own:
			return zPermsOrgUserManager, true
		case perms == PermsSomewhere && org == zOtherOrg, perms == PermsNowhere && own:
			return zPermsViewer, true
		}
		return "{}", true
	}
	return "", false
}

// The calls a Case can answer besides reactivate.
const (
	// OpRead is a read of one account: ZITADEL GET /v2/users/{id} (or v1 GET
	// /management/v1/users/{id}), Stytch GET .../members/dangerously_get/{id}?include_deleted=true.
	OpRead = "read"
	// OpDeactivate is a deactivate (ZITADEL) or a delete member (Stytch), for undo; Want is
	// jobs.ClassDeactivated for a success and jobs.ClassNotActive for "already inactive".
	OpDeactivate = "deactivate"
)

// StytchRequestID is the request id of every scripted Stytch case.
const StytchRequestID = "request-id-test-55d4f6a2-0b9e-4c57-9f0c-3a8a3c0f2e11"

// ZitadelRequestID is the X-Request-Id of every scripted ZITADEL case.
const ZitadelRequestID = "h1n0i01ksdua7m2beubg"

// StytchError returns Stytch's error body for an error type and status.
func StytchError(status int, errorType, message string) string {
	return fmt.Sprintf(`{"status_code":%d,"request_id":%q,"error_type":%q,"error_message":%q,"error_url":"https://stytch.com/docs/api/errors/%d#%s"}`,
		status, StytchRequestID, errorType, message, status, errorType)
}

// StytchSuccess returns Stytch's 200 body for a reactivated member.
func StytchSuccess(orgID, memberID string) string {
	return fmt.Sprintf(`{"request_id":%q,"member_id":%q,"member":{"organization_id":%q,"member_id":%q,"email_address":"ada@example.com","status":"active","name":"Ada","email_address_verified":true,"roles":[],"trusted_metadata":{},"untrusted_metadata":{}},"organization":{"organization_id":%q,"organization_name":"Acme","organization_slug":"acme"},"status_code":200}`,
		StytchRequestID, memberID, orgID, memberID, orgID)
}

// StytchDeleteSuccess returns Stytch's 200 body of Delete Member.
func StytchDeleteSuccess(memberID string) string {
	return fmt.Sprintf(`{"request_id":%q,"member_id":%q,"status_code":200}`, StytchRequestID, memberID)
}

// StytchMember returns Stytch's 200 body of a member read (dangerously get): the member with its
// status, email and times.
func StytchMember(orgID, memberID, status string, verified bool, created, updated time.Time) string {
	return fmt.Sprintf(`{"request_id":%q,"member_id":%q,"member":{"organization_id":%q,"member_id":%q,"email_address":"ada@example.com","status":%q,"name":"Ada","email_address_verified":%t,"is_locked":false,"roles":[],"trusted_metadata":{},"untrusted_metadata":{},"created_at":%q,"updated_at":%q},"organization":{"organization_id":%q,"organization_name":"Acme","organization_slug":"acme"},"status_code":200}`,
		StytchRequestID, memberID, orgID, memberID, status, verified, created.UTC().Format(time.RFC3339), updated.UTC().Format(time.RFC3339), orgID)
}

// ZitadelError returns a grpc-gateway error body with one ErrorDetail carrying id.
func ZitadelError(code int, message, id string) string {
	return fmt.Sprintf(`{"code":%d,"message":"%s (%s)","details":[{"@type":"type.googleapis.com/zitadel.v1.ErrorDetail","id":%q,"message":%q}]}`,
		code, message, id, id, message)
}

// ZitadelSuccess is ZITADEL's 200 body of a reactivate call, sequence as a string.
const ZitadelSuccess = `{"details":{"sequence":"4","changeDate":"2026-11-23T17:37:45.141082Z","resourceOwner":"400907376431008806"}}`

// ZitadelWrongHost is the 404 of a request whose Host names no instance.
const ZitadelWrongHost = `{"code":5,"message":"unable to set instance using origin \u0026{127.0.0.1:8080  http} (ExternalDomain is localhost): ID=QUERY-1kIjX Message=Instance not found. Make sure you got the domain right. Check out https://zitadel.com/docs/apis/introduction#domains"}`

// ZitadelNoAuth is the 401 of a request without an Authorization header.
const ZitadelNoAuth = `{"code":16,"message":"auth header missing"}`

// ProxyPage is an HTML error page of a proxy in front of a provider.
const ProxyPage = "<html><head><title>%d</title></head><body><center><h1>%d</h1></center><hr><center>nginx</center></body></html>\n"

func stytchCase(name string, status int, errorType string, want jobs.Class) Case {
	return Case{Name: name, Provider: jobs.Stytch, Status: status, Body: StytchError(status, errorType, "scripted "+errorType), Want: want, WantType: errorType}
}

func zitadelCase(name, api string, status, code int, message, id string, want jobs.Class) Case {
	return Case{Name: name, Provider: jobs.Zitadel, API: api, Status: status, Header: map[string]string{"X-Request-Id": ZitadelRequestID},
		Body: ZitadelError(code, message, id), Want: want, WantType: id}
}

// Cases is every answer of the classification tables in docs/providers.md, and every answer a
// real ZITADEL gave to a reactivate, a read or a permission look-up.
var Cases = func() []Case {
	c := []Case{
		{Name: "stytch/success_200", Provider: jobs.Stytch, Status: 200, Body: StytchSuccess("organization-test-00000000-0000-4000-8000-000000000001", "member-test-00000000-0000-4000-8000-000000000002"), Want: jobs.ClassReactivated},
		{Name: "stytch/success_201", Provider: jobs.Stytch, Status: 201, Body: StytchSuccess("organization-test-00000000-0000-4000-8000-000000000001", "member-test-00000000-0000-4000-8000-000000000002"), Want: jobs.ClassReactivated},
		stytchCase("stytch/not_deleted", 400, "no_deleted_member_found_for_reactivation", jobs.ClassNotDeactivated),
		stytchCase("stytch/email_unverified", 400, "email_unverified_for_reactivation", jobs.ClassUnverifiedEmail),
		stytchCase("stytch/email_taken", 400, "reactivation_email_belongs_to_another_member", jobs.ClassRejected),
		stytchCase("stytch/member_not_found", 404, "member_not_found", jobs.ClassNotFound),
		stytchCase("stytch/member_not_found_as_400", 400, "member_not_found", jobs.ClassNotFound),
		stytchCase("stytch/organization_not_found", 404, "organization_not_found", jobs.ClassNotFound),
		stytchCase("stytch/member_not_in_organization", 404, "member_does_not_exist_in_organization", jobs.ClassNotFound),
		stytchCase("stytch/invalid_organization_slug", 404, "invalid_organization_slug", jobs.ClassNotFound),
		stytchCase("stytch/invalid_organization_external_id", 404, "invalid_organization_external_id", jobs.ClassNotFound),
		stytchCase("stytch/invalid_organization_id", 400, "invalid_organization_id", jobs.ClassRejected),
		stytchCase("stytch/invalid_id", 400, "invalid_id", jobs.ClassRejected),
		stytchCase("stytch/bad_request", 400, "bad_request", jobs.ClassRejected),
		stytchCase("stytch/organization_suspended", 403, "organization_suspended", jobs.ClassRejected),
		stytchCase("stytch/session_tenancy", 403, "session_authorization_tenancy_error", jobs.ClassRejected),
		stytchCase("stytch/unauthorized_credentials", 401, "unauthorized_credentials", jobs.ClassFatal),
		stytchCase("stytch/unauthorized_credentials_homepage", 401, "unauthorized_credentials_homepage", jobs.ClassFatal),
		stytchCase("stytch/invalid_secret", 401, "invalid_secret_authentication", jobs.ClassFatal),
		stytchCase("stytch/invalid_project_id_authentication", 401, "invalid_project_id_authentication", jobs.ClassFatal),
		stytchCase("stytch/invalid_project_id", 401, "invalid_project_id", jobs.ClassFatal),
		stytchCase("stytch/unauthorized_project_id_live", 401, "unauthorized_project_id_live", jobs.ClassFatal),
		stytchCase("stytch/unauthorized_project_id_test", 401, "unauthorized_project_id_test", jobs.ClassFatal),
		stytchCase("stytch/unknown_type_401", 401, "some_new_auth_error", jobs.ClassFatal),
		stytchCase("stytch/session_authorization_error", 403, "session_authorization_error", jobs.ClassFatal),
		stytchCase("stytch/use_https", 403, "use_https", jobs.ClassFatal),
		stytchCase("stytch/too_many_requests", 429, "too_many_requests", jobs.ClassTransient),
		stytchCase("stytch/internal_server_error", 500, "internal_server_error", jobs.ClassTransient),
		stytchCase("stytch/unknown_type_400", 400, "some_new_validation_error", jobs.ClassRejected),
		stytchCase("stytch/unknown_type_503", 503, "some_new_outage", jobs.ClassTransient),
		{Name: "stytch/too_many_requests_retry_after", Provider: jobs.Stytch, Status: 429, Header: map[string]string{"Retry-After": "7"},
			Body: StytchError(429, "too_many_requests", "Too many requests"), Want: jobs.ClassTransient, WantType: "too_many_requests"},
		{Name: "stytch/html_502", Provider: jobs.Stytch, Status: 502, ContentType: "text/html", Body: fmt.Sprintf(ProxyPage, 502, 502), Want: jobs.ClassTransient},
		{Name: "stytch/html_429", Provider: jobs.Stytch, Status: 429, ContentType: "text/html", Body: fmt.Sprintf(ProxyPage, 429, 429), Want: jobs.ClassTransient},
		{Name: "stytch/html_401", Provider: jobs.Stytch, Status: 401, ContentType: "text/html", Body: fmt.Sprintf(ProxyPage, 401, 401), Want: jobs.ClassFatal},
		{Name: "stytch/html_404_wrong_base_url", Provider: jobs.Stytch, Status: 404, ContentType: "text/html", Body: fmt.Sprintf(ProxyPage, 404, 404), Want: jobs.ClassFatal},
		{Name: "stytch/json_404_without_type", Provider: jobs.Stytch, Status: 404, Body: `{"message":"no route"}`, Want: jobs.ClassFatal},
	}
	for _, api := range []string{"v1", "v2"} {
		notInactive, notFound, empty := "COMMAND-s5qqcz97hf", "COMMAND-9hy5kzbuk6", "COMMAND-0nx1ie38fw"
		if api == "v1" {
			notInactive, notFound, empty = "COMMAND-6M0sf", "COMMAND-4M0sd", "COMMAND-4M9ds"
		}
		p := "zitadel_" + api + "/"
		c = append(c,
			Case{Name: p + "success", Provider: jobs.Zitadel, API: api, Status: 200, Header: map[string]string{"X-Request-Id": ZitadelRequestID, "Set-Cookie": "zitadel.quota.exhausted=; Path=/; Max-Age=0; SameSite=Lax"}, Body: ZitadelSuccess, Want: jobs.ClassReactivated},
			Case{Name: p + "success_numeric_sequence", Provider: jobs.Zitadel, API: api, Status: 200, Header: map[string]string{"X-Request-Id": ZitadelRequestID}, Body: `{"details":{"sequence":4,"changeDate":"2026-11-23T17:37:45.141082Z","resourceOwner":"400907376431008806"}}`, Want: jobs.ClassReactivated},
			zitadelCase(p+"not_inactive", api, 400, 9, "User is not inactive", notInactive, jobs.ClassNotDeactivated),
			zitadelCase(p+"not_inactive_old_id", api, 400, 9, "User is not inactive", "COMMAND-6M0sf", jobs.ClassNotDeactivated),
			zitadelCase(p+"not_inactive_other_set", api, 400, 9, "User is not inactive", map[string]string{"v1": "COMMAND-s5qqcz97hf", "v2": "COMMAND-6M0sf"}[api], jobs.ClassNotDeactivated),
			zitadelCase(p+"failed_precondition_unknown_id", api, 400, 9, "User is in a strange state", "COMMAND-zz9zz", jobs.ClassRejected),
			zitadelCase(p+"not_found", api, 404, 5, "User could not be found", notFound, jobs.ClassNotFound),
			zitadelCase(p+"not_found_old_id", api, 404, 5, "User could not be found", "COMMAND-k2unb", jobs.ClassNotFound),
			zitadelCase(p+"not_found_other_set", api, 404, 5, "User could not be found", map[string]string{"v1": "COMMAND-9hy5kzbuk6", "v2": "COMMAND-4M0sd"}[api], jobs.ClassNotFound),
			zitadelCase(p+"empty_id", api, 400, 3, "User ID is missing", empty, jobs.ClassRejected),
			zitadelCase(p+"empty_id_old", api, 400, 3, "User ID is missing", "COMMAND-2M0sd", jobs.ClassRejected),
			Case{Name: p + "no_token", Provider: jobs.Zitadel, API: api, Status: 401, Header: map[string]string{"X-Request-Id": ZitadelRequestID}, Body: ZitadelNoAuth, Want: jobs.ClassFatal},
			zitadelCase(p+"bad_token", api, 401, 16, "Errors.Token.Invalid", "AUTH-7fs1e", jobs.ClassFatal),
			zitadelCase(p+"rate_limited", api, 429, 8, "Errors.Quota.RequestsExhausted", "QUOTA-vjAy8", jobs.ClassTransient),
			Case{Name: p + "rate_limited_proxy_retry_after", Provider: jobs.Zitadel, API: api, Status: 429, Header: map[string]string{"Retry-After": "Mon, 23 Nov 2026 17:38:05 GMT"}, ContentType: "text/html", Body: fmt.Sprintf(ProxyPage, 429, 429), Want: jobs.ClassTransient},
			zitadelCase(p+"unavailable", api, 503, 14, "Errors.Internal", "QUERY-Dh42f", jobs.ClassTransient),
			zitadelCase(p+"internal", api, 500, 13, "Errors.Internal", "COMMAND-0p2sx", jobs.ClassTransient),
			Case{Name: p + "wrong_host", Provider: jobs.Zitadel, API: api, Status: 404, Header: map[string]string{"X-Request-Id": ZitadelRequestID}, Body: ZitadelWrongHost, Want: jobs.ClassFatal},
			zitadelCase(p+"404_unknown_id", api, 404, 5, "Project not found", "QUERY-xx1x", jobs.ClassFatal),
			Case{Name: p + "html_404", Provider: jobs.Zitadel, API: api, Status: 404, ContentType: "text/html", Body: fmt.Sprintf(ProxyPage, 404, 404), Want: jobs.ClassFatal},
			Case{Name: p + "html_502", Provider: jobs.Zitadel, API: api, Status: 502, ContentType: "text/html", Body: fmt.Sprintf(ProxyPage, 502, 502), Want: jobs.ClassTransient},
			Case{Name: p + "method_not_allowed", Provider: jobs.Zitadel, API: api, Status: 405, Header: map[string]string{"X-Request-Id": ZitadelRequestID}, Body: `{"code":12,"message":"Method Not Allowed"}`, Want: jobs.ClassFatal},
			Case{Name: p + "redirect", Provider: jobs.Zitadel, API: api, Status: 301, Header: map[string]string{"Location": "/v2/users/reactivate"}, ContentType: "text/html", Body: "<a href=\"/\">Moved Permanently</a>.\n", Want: jobs.ClassFatal},
			Case{Name: p + "connect_string_code", Provider: jobs.Zitadel, API: api, Status: 400, Header: map[string]string{"X-Request-Id": ZitadelRequestID},
				Body: `{"code":"failed_precondition","message":"User is not inactive (` + notInactive + `)","details":[{"type":"zitadel.v1.ErrorDetail","value":"","debug":{"id":"` + notInactive + `","message":"User is not inactive"}},{"@type":"type.googleapis.com/zitadel.v1.ErrorDetail","id":"` + notInactive + `","message":"User is not inactive"}]}`,
				Want: jobs.ClassNotDeactivated, WantType: notInactive},
			zitadelCase(p+"unknown_400", api, 400, 3, "Something else is wrong", "COMMAND-ab12c", jobs.ClassRejected),
		)
	}
	c = append(c,
		// v2 checks existence and state before permission: any 7 is fatal.
		perms(zitadelCase("zitadel_v2/permission_denied", "v2", 403, 7, "No matching permissions found", "AUTH-AWfge", jobs.ClassFatal), PermsNowhere),
		perms(zitadelCase("zitadel_v2/permission_denied_v1_id", "v2", 403, 7, "No matching permissions found", "AUTH-5mWD2", jobs.ClassFatal), PermsNowhere),
		// v1 checks permission first, in the caller's org or the row's x-zitadel-orgid.
		perms(zitadelCase("zitadel_v1/permission_denied_own_org", "v1", 403, 7, "No matching permissions found", "AUTH-5mWD2", jobs.ClassFatal), PermsNowhere),
		perms(with(zitadelCase("zitadel_v1/permission_denied_row_org", "v1", 403, 7, "No matching permissions found", "AUTH-5mWD2", jobs.ClassRejected), true), PermsSomewhere),
		with(zitadelCase("zitadel_v1/unknown_row_org", "v1", 403, 7, "Organisation doesn't exist", "AUTH-Bs7Ds", jobs.ClassNotFound), true),
		zitadelCase("zitadel_v1/unknown_default_org", "v1", 403, 7, "Organisation doesn't exist", "AUTH-Bs7Ds", jobs.ClassFatal),
	)
	c = append(c, permissionCases()...)
	c = append(c, readCases()...)
	c = append(c, deactivateCases()...)
	return c
}()

// deactivateCases are the answers to a deactivate: the real ZITADEL server's, per state and per
// kind of service user, and Stytch's delete member.
func deactivateCases() []Case {
	z := func(c Case) Case {
		c.Op = OpDeactivate
		c.Name = c.Name[:len("zitadel_v2/")] + "deactivate_" + c.Name[len("zitadel_v2/"):]
		return c
	}
	ok := func(name, api, body string) Case {
		return z(Case{Name: "zitadel_" + api + "/" + name, Provider: jobs.Zitadel, API: api, Status: 200,
			Header: map[string]string{"X-Request-Id": ZitadelRequestID}, Body: body, Want: jobs.ClassDeactivated})
	}
	const inactive, initial, notFound, denied, noMember = "User already inactive", "User with state initial can only be deleted not deactivated", "User could not be found", "No matching permissions found", "membership not found"
	c := []Case{
		ok("active", "v2", `{"details":{"sequence":"3", "changeDate":"2026-11-30T14:16:15.248768Z", "resourceOwner":"401899638682091521"}}`),
		ok("locked", "v2", `{"details":{"sequence":"4", "changeDate":"2026-11-30T14:16:15.313067Z", "resourceOwner":"401899638682091521"}}`),
		ok("machine", "v2", `{"details":{"sequence":"2", "changeDate":"2026-11-30T14:16:15.547290Z", "resourceOwner":"401899638682091521"}}`),
		ok("active", "v1", `{"details":{"sequence":"3", "changeDate":"2026-11-30T14:16:15.379067Z", "resourceOwner":"401899638682091521"}}`),
		ok("locked", "v1", `{"details":{"sequence":"4", "changeDate":"2026-11-30T14:16:15.435308Z", "resourceOwner":"401899638682091521"}}`),
		z(zitadelCase("zitadel_v2/already_inactive", "v2", 400, 9, inactive, "COMMAND-5gunjw0cd7", jobs.ClassNotActive)),
		z(zitadelCase("zitadel_v1/already_inactive", "v1", 400, 9, inactive, "COMMAND-5M0sf", jobs.ClassNotActive)),
		z(zitadelCase("zitadel_v2/initial", "v2", 400, 9, initial, "COMMAND-gvx4kct9r2", jobs.ClassRejected)),
		z(zitadelCase("zitadel_v1/initial", "v1", 404, 5, initial, "COMMAND-ke0fw", jobs.ClassRejected)),
		z(zitadelCase("zitadel_v2/removed", "v2", 404, 5, notFound, "COMMAND-5gp2p62iin", jobs.ClassNotFound)),
		z(zitadelCase("zitadel_v1/removed", "v1", 404, 5, notFound, "COMMAND-3M9ds", jobs.ClassNotFound)),
		z(perms(zitadelCase("zitadel_v2/viewer", "v2", 403, 7, denied, "AUTH-AWfge", jobs.ClassFatal), PermsNowhere)),
		z(perms(zitadelCase("zitadel_v1/viewer", "v1", 403, 7, denied, "AUTH-5mWD2", jobs.ClassFatal), PermsNowhere)),
		z(perms(zitadelCase("zitadel_v2/no_role", "v2", 404, 5, noMember, "AUTHZ-cdgFk", jobs.ClassFatal), PermsNoRole)),
		z(perms(zitadelCase("zitadel_v2/no_role_already_inactive", "v2", 400, 9, inactive, "COMMAND-5gunjw0cd7", jobs.ClassNotActive), PermsNoRole)),
		z(perms(zitadelCase("zitadel_v1/no_role_already_inactive", "v1", 404, 5, noMember, "AUTHZ-cdgFk", jobs.ClassFatal), PermsNoRole)),
		z(perms(zitadelCase("zitadel_v2/manager_other_org", "v2", 403, 7, denied, "AUTH-AWfge", jobs.ClassRejected), PermsSomewhere)),
		z(zitadelCase("zitadel_v2/bad_token", "v2", 401, 16, "Errors.Token.Invalid", "AUTH-7fs1e", jobs.ClassFatal)),
		z(zitadelCase("zitadel_v2/unavailable", "v2", 503, 14, "Errors.Internal", "QUERY-Dh42f", jobs.ClassTransient)),
	}
	const sMember = "member-test-00000000-0000-4000-8000-000000000002"
	sdel := func(c Case) Case { c.Op = OpDeactivate; c.Name = "stytch/delete_" + c.Name[len("stytch/"):]; return c }
	c = append(c,
		sdel(Case{Name: "stytch/success", Provider: jobs.Stytch, Status: 200, Body: StytchDeleteSuccess(sMember), Want: jobs.ClassDeactivated}),
		sdel(stytchCase("stytch/member_not_found", 404, "member_not_found", jobs.ClassNotFound)),
		sdel(stytchCase("stytch/member_not_in_organization", 404, "member_does_not_exist_in_organization", jobs.ClassNotFound)),
		sdel(stytchCase("stytch/organization_not_found", 404, "organization_not_found", jobs.ClassNotFound)),
		sdel(stytchCase("stytch/unauthorized_credentials", 401, "unauthorized_credentials", jobs.ClassFatal)),
		sdel(stytchCase("stytch/too_many_requests", 429, "too_many_requests", jobs.ClassTransient)),
		sdel(stytchCase("stytch/internal_server_error", 500, "internal_server_error", jobs.ClassTransient)),
	)
	return c
}

func with(c Case, rowOrg bool) Case { c.RowOrg = rowOrg; return c }

func perms(c Case, p string) Case { c.Perms = p; return c }

// permissionCases are the real server's answers to reactivate by service users of each kind
// (docs/providers.md, "ZITADEL permissions"): v2 checks existence, state, then permission; v1
// permission first, then looks the user up in the acting organisation, then its state.
func permissionCases() []Case {
	const denied, noMember = "No matching permissions found", "membership not found"
	return []Case{
		// No role at all: fatal, "grant a role", never "check ZITADEL_URL".
		perms(zitadelCase("zitadel_v2/no_role", "v2", 404, 5, noMember, "AUTHZ-cdgFk", jobs.ClassFatal), PermsNoRole),
		perms(zitadelCase("zitadel_v1/no_role", "v1", 404, 5, noMember, "AUTHZ-cdgFk", jobs.ClassFatal), PermsNoRole),
		// A viewer: a role, but user.write nowhere.
		perms(zitadelCase("zitadel_v2/viewer", "v2", 403, 7, denied, "AUTH-AWfge", jobs.ClassFatal), PermsNowhere),
		perms(zitadelCase("zitadel_v1/viewer", "v1", 403, 7, denied, "AUTH-5mWD2", jobs.ClassFatal), PermsNowhere),
		perms(zitadelCase("zitadel_v1/viewer_active_user", "v1", 403, 7, denied, "AUTH-5mWD2", jobs.ClassFatal), PermsNowhere),
		perms(zitadelCase("zitadel_v1/viewer_unknown_user", "v1", 403, 7, denied, "AUTH-5mWD2", jobs.ClassFatal), PermsNowhere),
		// An org user manager and a user of another organisation: the row is rejected, the run goes on.
		perms(zitadelCase("zitadel_v2/manager_other_org", "v2", 403, 7, denied, "AUTH-AWfge", jobs.ClassRejected), PermsSomewhere),
		perms(zitadelCase("zitadel_v1/manager_other_org_no_header", "v1", 404, 5, "User could not be found", "COMMAND-4M0sd", jobs.ClassNotFound), PermsSomewhere),
		perms(with(zitadelCase("zitadel_v1/manager_other_org", "v1", 403, 7, denied, "AUTH-5mWD2", jobs.ClassRejected), true), PermsSomewhere),
		perms(with(zitadelCase("zitadel_v1/manager_other_org_active_user", "v1", 403, 7, denied, "AUTH-5mWD2", jobs.ClassRejected), true), PermsSomewhere),
		// v2 tells any caller the state first.
		perms(zitadelCase("zitadel_v2/manager_other_org_active_user", "v2", 400, 9, "User is not inactive", "COMMAND-s5qqcz97hf", jobs.ClassNotDeactivated), PermsSomewhere),
		perms(zitadelCase("zitadel_v2/no_role_active_user", "v2", 400, 9, "User is not inactive", "COMMAND-s5qqcz97hf", jobs.ClassNotDeactivated), PermsNoRole),
		perms(zitadelCase("zitadel_v2/viewer_active_user", "v2", 400, 9, "User is not inactive", "COMMAND-s5qqcz97hf", jobs.ClassNotDeactivated), PermsNowhere),
		perms(zitadelCase("zitadel_v2/manager_unknown_user", "v2", 404, 5, "User could not be found", "COMMAND-9hy5kzbuk6", jobs.ClassNotFound), PermsSomewhere),
		// Locked is not inactive; removed is not found.
		zitadelCase("zitadel_v2/locked", "v2", 400, 9, "User is not inactive", "COMMAND-s5qqcz97hf", jobs.ClassNotDeactivated),
		zitadelCase("zitadel_v1/locked", "v1", 400, 9, "User is not inactive", "COMMAND-6M0sf", jobs.ClassNotDeactivated),
		zitadelCase("zitadel_v2/removed", "v2", 404, 5, "User could not be found", "COMMAND-9hy5kzbuk6", jobs.ClassNotFound),
		zitadelCase("zitadel_v1/removed", "v1", 404, 5, "User could not be found", "COMMAND-4M0sd", jobs.ClassNotFound),
	}
}

// Ids and times of the real ZITADEL answers the read cases quote.
const (
	zDefaultOrg = "401899638682091521"
	zOtherOrg   = "401899899316076545"
)

// mustTime parses an RFC 3339 time of the table.
func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// Stytch member read times of the table.
var (
	stytchCreated = time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)
	stytchUpdated = time.Date(2026, 11, 23, 17, 37, 45, 0, time.UTC)
)

// readCases are the answers to a read of one account.
func readCases() []Case {
	zread := func(name, api string, status int, body string, want jobs.Class, acct jobs.Account) Case {
		return Case{Name: "zitadel_" + api + "/" + name, Provider: jobs.Zitadel, API: api, Op: OpRead, Status: status,
			Header: map[string]string{"X-Request-Id": ZitadelRequestID}, Body: body, Want: want, WantAccount: acct}
	}
	zerr := func(name, api string, status, code int, message, id string, want jobs.Class) Case {
		c := zread(name, api, status, ZitadelError(code, message, id), want, jobs.Account{})
		c.WantType = id
		return c
	}
	acct := func(id, org, email string, st jobs.AccountState, raw, changed string) jobs.Account {
		return jobs.Account{ID: id, OrgID: org, Email: email, State: st, Raw: raw, ChangedAt: mustTime(changed)}
	}
	notFound := jobs.Account{State: jobs.StateNotFound}
	c := []Case{
		// A real server's reads: every state, before and after a reactivate, a machine user.
		zread("read_active", "v2", 200, zReadActive, "", acct("401901624148099073", zDefaultOrg, "t2c-141355-act@example.com", jobs.StateActive, "USER_STATE_ACTIVE", "2026-11-30T14:13:56.480383Z")),
		zread("read_inactive", "v2", 200, zReadInactive, "", acct("401901625960038401", zDefaultOrg, "t2c-141355-deact@example.com", jobs.StateDeactivated, "USER_STATE_INACTIVE", "2026-11-30T14:13:59.753650Z")),
		zread("read_after_reactivate", "v2", 200, zReadReactivated, "", acct("401901625960038401", zDefaultOrg, "t2c-141355-deact@example.com", jobs.StateActive, "USER_STATE_ACTIVE", "2026-11-30T14:14:00.103182Z")),
		zread("read_locked", "v2", 200, zReadLocked, "", acct("401901627788754945", zDefaultOrg, "t2c-141355-lock@example.com", jobs.StateLocked, "USER_STATE_LOCKED", "2026-11-30T14:13:59.780996Z")),
		zread("read_initial", "v2", 200, zReadInitial, "", acct("401901631513296897", zDefaultOrg, "t2c-141355-init@example.com", jobs.StateInitial, "USER_STATE_INITIAL", "2026-11-30T14:13:59.814916Z")),
		zread("read_machine", "v2", 200, zReadMachine, "", acct("401901631697846273", zDefaultOrg, "", jobs.StateActive, "USER_STATE_ACTIVE", "2026-11-30T14:13:59.924001Z")),
		zread("read_other_org_by_viewer", "v2", 200, zReadOtherOrg, "", acct("401901577977200641", zOtherOrg, "t2a-141324-o1@example.com", jobs.StateDeactivated, "USER_STATE_INACTIVE", "2026-11-30T14:13:30.101865Z")),
		zread("read_deactivated_while_locked", "v2", 200, zReadDeactivatedWhileLocked, "", acct("401901853123543041", zDefaultOrg, "t2f-141609-lock1@example.com", jobs.StateDeactivated, "USER_STATE_INACTIVE", "2026-11-30T14:16:15.313067Z")),
		zread("read_inactive", "v1", 200, zReadInactiveV1, "", acct("401901625960038401", zDefaultOrg, "t2c-141355-deact@example.com", jobs.StateDeactivated, "USER_STATE_INACTIVE", "2026-11-30T14:13:59.753650Z")),
		zread("read_after_reactivate", "v1", 200, zReadReactivatedV1, "", acct("401901625960038401", zDefaultOrg, "t2c-141355-deact@example.com", jobs.StateActive, "USER_STATE_ACTIVE", "2026-11-30T14:14:00.103182Z")),
		// Removed and never-existing users answer alike, on both APIs.
		zread("read_removed", "v2", 404, zReadNotFound, "", notFound),
		zread("read_never_existed", "v2", 404, zReadNotFound, "", notFound),
		zread("read_removed", "v1", 404, zReadNotFound, "", notFound),
		zread("read_never_existed", "v1", 404, zReadNotFound, "", notFound),
		// A user state this client does not know: read, but unknown.
		zread("read_unknown_state", "v2", 200, `{"details":{"sequence":"2","changeDate":"2026-11-30T14:13:56.480383Z","resourceOwner":"401899638682091521"},"user":{"userId":"1","state":"USER_STATE_SUSPENDED","username":"s"}}`, "",
			jobs.Account{ID: "1", OrgID: zDefaultOrg, State: jobs.StateUnknown, Raw: "USER_STATE_SUSPENDED", ChangedAt: mustTime("2026-11-30T14:13:56.480383Z")}),
		// The caller has no role at all: reading is denied too.
		zerr("read_no_role", "v2", 404, 5, "membership not found", "AUTHZ-cdgFk", jobs.ClassFatal),
		zerr("read_no_role", "v1", 404, 5, "membership not found", "AUTHZ-cdgFk", jobs.ClassFatal),
		zerr("read_bad_token", "v2", 401, 16, "Errors.Token.Invalid", "AUTH-7fs1e", jobs.ClassFatal),
		zerr("read_bad_token", "v1", 401, 16, "Errors.Token.Invalid", "AUTH-7fs1e", jobs.ClassFatal),
		zread("read_no_token", "v2", 401, ZitadelNoAuth, jobs.ClassFatal, jobs.Account{}),
		zread("read_wrong_host", "v2", 404, ZitadelWrongHost, jobs.ClassFatal, jobs.Account{}),
		zerr("read_unavailable", "v2", 503, 14, "Errors.Internal", "QUERY-Dh42f", jobs.ClassTransient),
		zerr("read_rate_limited", "v2", 429, 8, "Errors.Quota.RequestsExhausted", "QUOTA-vjAy8", jobs.ClassTransient),
		{Name: "zitadel_v2/read_html_502", Provider: jobs.Zitadel, API: "v2", Op: OpRead, Status: 502, ContentType: "text/html", Body: fmt.Sprintf(ProxyPage, 502, 502), Want: jobs.ClassTransient},
		zread("read_200_not_a_user", "v2", 200, `{"ok":true}`, jobs.ClassTransient, jobs.Account{}),
	}
	sread := func(name string, status int, body string, want jobs.Class, acct jobs.Account) Case {
		return Case{Name: "stytch/" + name, Provider: jobs.Stytch, Op: OpRead, Status: status, Body: body, Want: want, WantAccount: acct}
	}
	const sOrg, sMember = "organization-test-00000000-0000-4000-8000-000000000001", "member-test-00000000-0000-4000-8000-000000000002"
	sacct := func(st jobs.AccountState, raw string) jobs.Account {
		return jobs.Account{ID: sMember, OrgID: sOrg, Email: "ada@example.com", EmailVerified: true, State: st, Raw: raw, ChangedAt: stytchUpdated}
	}
	for _, m := range []struct {
		status string
		state  jobs.AccountState
	}{{"active", jobs.StateActive}, {"deleted", jobs.StateDeactivated}, {"invited", jobs.StateInvited}, {"pending", jobs.StatePending}, {"suspended", jobs.StateUnknown}} {
		c = append(c, sread("read_"+m.status, 200, StytchMember(sOrg, sMember, m.status, true, stytchCreated, stytchUpdated), "", sacct(m.state, m.status)))
	}
	c = append(c,
		sread("read_member_not_found", 404, StytchError(404, "member_not_found", "scripted member_not_found"), "", jobs.Account{State: jobs.StateNotFound}),
		sread("read_unauthorized", 401, StytchError(401, "unauthorized_credentials", "scripted unauthorized_credentials"), jobs.ClassFatal, jobs.Account{}),
		sread("read_internal_error", 500, StytchError(500, "internal_server_error", "scripted internal_server_error"), jobs.ClassTransient, jobs.Account{}),
		sread("read_too_many_requests", 429, StytchError(429, "too_many_requests", "scripted too_many_requests"), jobs.ClassTransient, jobs.Account{}),
		Case{Name: "stytch/read_html_404_wrong_base_url", Provider: jobs.Stytch, Op: OpRead, Status: 404, ContentType: "text/html", Body: fmt.Sprintf(ProxyPage, 404, 404), Want: jobs.ClassFatal},
		sread("read_200_not_a_member", 200, `{"request_id":"`+StytchRequestID+`","status_code":200}`, jobs.ClassTransient, jobs.Account{}),
	)
	for i := range c {
		if c[i].Want != "" && c[i].Provider == jobs.Stytch && c[i].Status != 200 && c[i].ContentType == "" {
			c[i].WantType = map[int]string{401: "unauthorized_credentials", 500: "internal_server_error", 429: "too_many_requests"}[c[i].Status]
		}
	}
	return c
}
