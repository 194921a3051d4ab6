// This file seeds the fakes with a realistic mix of accounts for the demo, and writes the sample
// CSV files that go with them.

package fakeidp

import (
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"

	"reactivator/jobs"
)

// DemoRow is one line of a demo sample file and the outcome it is meant to end with.
type DemoRow struct {
	// OrgID is the Stytch organization (its id or its slug) or the ZITADEL org id ("" for none).
	OrgID    string
	MemberID string
	UserID   string
	Email    string
	// Want is the outcome the row ends with when the faults leave it alone (transient errors are
	// retried; a row whose retries run out ends failed instead).
	Want jobs.Outcome
}

// demoNames make the sample emails look like people's.
var demoNames = []string{"ada", "alan", "grace", "edsger", "barbara", "donald", "margaret", "ken", "dennis",
	"frances", "john", "radia", "leslie", "tim", "katherine", "niklaus", "shafi", "whitfield", "hedy", "linus"}

// demoUUID returns a version-4-shaped UUID drawn from rng.
func demoUUID(rng *rand.Rand) string {
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", rng.Uint32(), rng.Uint32()&0xffff, rng.Uint32()&0xfff,
		rng.Uint32()&0xfff, rng.Uint64()&0xffffffffffff)
}

// SeedDemo adds n members to the fake, across three organizations with slugs, and returns the
// rows of a sample file for them: mostly deleted members with a verified email (reactivated),
// some active or invited ones (not_deactivated), some without a verified email
// (unverified_email), a few that do not exist (not_found), some rows naming the organization by
// its slug, and at the end a row with a mistyped member id (invalid) and a repeat of the first row
// (duplicate). The same seed gives the same accounts and rows. The ids are of the test
// environment, so the fake's project id must be a project-test- one.
func (s *Stytch) SeedDemo(n int, seed uint64) []DemoRow {
	rng := rand.New(rand.NewPCG(seed, 0x5747))
	type org struct{ id, slug, domain string }
	orgs := []org{{slug: "acme", domain: "acme.example"}, {slug: "globex", domain: "globex.example"}, {slug: "initech", domain: "initech.example"}}
	for i := range orgs {
		orgs[i].id = "organization-test-" + demoUUID(rng)
		s.AddOrg(orgs[i].id, orgs[i].slug)
	}
	rows := make([]DemoRow, 0, n+2)
	for i := range n {
		o := orgs[rng.IntN(len(orgs))]
		member := "member-test-" + demoUUID(rng)
		row := DemoRow{OrgID: o.id, MemberID: member, Email: fmt.Sprintf("%s.%d@%s", demoNames[rng.IntN(len(demoNames))], i+1, o.domain)}
		if rng.IntN(4) == 0 {
			row.OrgID = o.slug
		}
		switch r := rng.Float64(); {
		case r < 0.70:
			s.AddMember(o.id, member, StytchDeleted, true)
			row.Want = jobs.Reactivated
		case r < 0.78:
			s.AddMember(o.id, member, StytchActive, true)
			row.Want = jobs.NotDeactivated
		case r < 0.82:
			s.AddMember(o.id, member, StytchInvited, false)
			row.Want = jobs.NotDeactivated
		case r < 0.93:
			s.AddMember(o.id, member, StytchDeleted, false)
			row.Want = jobs.UnverifiedEmail
		default:
			row.Want = jobs.NotFound // never added
		}
		rows = append(rows, row)
	}
	rows = append(rows, DemoRow{OrgID: orgs[0].id, MemberID: "membr-test-" + demoUUID(rng), Email: "typo@acme.example", Want: jobs.Invalid})
	if n > 0 {
		again := rows[0]
		again.Want = jobs.Duplicate
		rows = append(rows, again)
	}
	return rows
}

// SeedDemo adds n users to the fake, across two organizations, and returns the rows of a sample
// file for them: mostly inactive users (reactivated), some active, initial or locked ones
// (not_deactivated), a few unknown ids (not_found), some rows with an org_id, and at the end a row
// with an id holding a space (invalid) and a repeat of the first row (duplicate). The same seed
// gives the same users and rows.
func (z *Zitadel) SeedDemo(n int, seed uint64) []DemoRow {
	rng := rand.New(rand.NewPCG(seed, 0x2174))
	orgs := []struct{ id, domain string }{
		{fmt.Sprint(200000000000000000 + rng.Int64N(1e17)), "acme.example"},
		{fmt.Sprint(200000000000000000 + rng.Int64N(1e17)), "umbrella.example"},
	}
	rows := make([]DemoRow, 0, n+2)
	for i := range n {
		o := orgs[rng.IntN(len(orgs))]
		id := fmt.Sprint(300000000000000000 + rng.Int64N(1e17))
		row := DemoRow{UserID: id, Email: fmt.Sprintf("%s.%d@%s", demoNames[rng.IntN(len(demoNames))], i+1, o.domain)}
		if rng.IntN(5) < 2 {
			row.OrgID = o.id
		}
		switch r := rng.Float64(); {
		case r < 0.72:
			z.AddUser(id, o.id, ZitadelInactive)
			row.Want = jobs.Reactivated
		case r < 0.82:
			z.AddUser(id, o.id, ZitadelActive)
			row.Want = jobs.NotDeactivated
		case r < 0.88:
			z.AddUser(id, o.id, ZitadelInitial)
			row.Want = jobs.NotDeactivated
		case r < 0.92:
			z.AddUser(id, o.id, ZitadelLocked)
			row.Want = jobs.NotDeactivated
		default:
			row.Want = jobs.NotFound // never added
		}
		rows = append(rows, row)
	}
	rows = append(rows, DemoRow{UserID: "3000 0001", Email: "space@acme.example", Want: jobs.Invalid})
	if n > 0 {
		again := rows[0]
		again.Want = jobs.Duplicate
		rows = append(rows, again)
	}
	return rows
}

// WriteDemoCSV writes rows as a sample file of provider p: organization_id,member_id,email for
// Stytch, user_id,org_id,email for ZITADEL.
func WriteDemoCSV(w io.Writer, p jobs.Provider, rows []DemoRow) error {
	cw := csv.NewWriter(w)
	header := []string{"organization_id", "member_id", "email"}
	if p == jobs.Zitadel {
		header = []string{"user_id", "org_id", "email"}
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, r := range rows {
		rec := []string{r.OrgID, r.MemberID, r.Email}
		if p == jobs.Zitadel {
			rec = []string{r.UserID, r.OrgID, r.Email}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
