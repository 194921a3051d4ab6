// This file tests Reader and Check: the records they yield and the files they refuse.

package ingest_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"reactivator/ingest"
	"reactivator/jobs"
)

// Ids that pass jobs.Row.Validate.
const (
	org  = "organization-test-07d6d0c4-1b4c-4f8a-9f0b-3b6c1c5e2a11"
	mem  = "member-test-5a1f9e3c-2b7d-4c8e-a1f0-6d2e3b4c5a62"
	mem2 = "member-test-9c3b2a1d-4e5f-4a6b-8c7d-0e1f2a3b4c73"
	uid  = "284021839634282001"
	uid2 = "284021839634282002"
	zorg = "284021800000000001"
)

// rec is a record as a test expects it; invalid is a part of the reason ("" for a valid record).
type rec struct {
	line              int
	org, member, user string
	extra             []string
	invalid           string
}

func (r rec) String() string {
	return fmt.Sprintf("{line %d org %q member %q user %q extra %q invalid %q}", r.line, r.org, r.member, r.user, r.extra, r.invalid)
}

// got is what reading a whole file gave.
type got struct {
	provider jobs.Provider
	header   []string
	extra    []string
	recs     []ingest.Record
	err      error // first error of NewReader or Next, io.EOF excluded
}

// readAll reads the whole input, stopping at the first error.
func readAll(t *testing.T, name string, r io.Reader, o ingest.Options) got {
	t.Helper()
	rd, err := ingest.NewReader(name, r, o)
	if err != nil {
		return got{err: err}
	}
	g := got{provider: rd.Provider(), header: rd.Header(), extra: rd.ExtraColumns()}
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return g
		}
		if err != nil {
			g.err = err
			return g
		}
		g.recs = append(g.recs, rec)
	}
}

// matches reports whether the records are those wanted, and says how they differ.
func matches(p jobs.Provider, recs []ingest.Record, want []rec) (bool, string) {
	var gotS, wantS []string
	ok := len(recs) == len(want)
	for i, r := range recs {
		g := rec{line: r.Row.Line, org: r.Row.OrgID, member: r.Row.MemberID, user: r.Row.UserID, extra: r.Extra, invalid: r.Invalid}
		gotS = append(gotS, g.String())
		if r.Row.Provider != p {
			ok = false
		}
		if (r.Invalid == "") != (i < len(want) && want[i].invalid == "") {
			ok = false
		}
		if i < len(want) {
			w := want[i]
			g.invalid = w.invalid
			if !strings.Contains(r.Invalid, w.invalid) || len(g.extra) != len(w.extra) || (len(w.extra) > 0 && !reflect.DeepEqual(g.extra, w.extra)) {
				ok = false
			}
			g.extra, w.extra = nil, nil
			if !reflect.DeepEqual(g, w) {
				ok = false
			}
		}
	}
	for _, w := range want {
		wantS = append(wantS, w.String())
	}
	return ok, fmt.Sprintf("\n got %s\nwant %s", strings.Join(gotS, "\n     "), strings.Join(wantS, "\n     "))
}

// chunkings are the ways a test hands a file to the reader: whole, a byte at a time (every
// multi-byte rune and CRLF cut), half reads, and data returned together with io.EOF.
var chunkings = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"whole", func(r io.Reader) io.Reader { return r }},
	{"one byte", iotest.OneByteReader},
	{"half", iotest.HalfReader},
	{"data with EOF", iotest.DataErrReader},
}

func TestReaderRecords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		in       string
		opts     ingest.Options
		provider jobs.Provider
		header   []string
		extra    []string
		want     []rec
	}{
		{
			name:     "stytch",
			in:       "organization_id,member_id\n" + org + "," + mem + "\n",
			provider: jobs.Stytch,
			header:   []string{"organization_id", "member_id"},
			want:     []rec{{line: 2, org: org, member: mem}},
		},
		{
			name:     "stytch aliases org_id and member",
			in:       "org_id,member\n" + org + "," + mem + "\n",
			provider: jobs.Stytch,
			header:   []string{"org_id", "member"},
			want:     []rec{{line: 2, org: org, member: mem}},
		},
		{
			name:     "stytch slug and external org ids",
			in:       "member_id,organization_id\n" + mem + ",acme-corp\n" + mem2 + ",ext_1234\n",
			provider: jobs.Stytch,
			header:   []string{"member_id", "organization_id"},
			want:     []rec{{line: 2, org: "acme-corp", member: mem}, {line: 3, org: "ext_1234", member: mem2}},
		},
		{
			name:     "header names are case-insensitive and trimmed",
			in:       "  Organization_ID ,\tMEMBER_id  \n" + org + "," + mem + "\n",
			provider: jobs.Stytch,
			header:   []string{"Organization_ID", "MEMBER_id"},
			want:     []rec{{line: 2, org: org, member: mem}},
		},
		{
			name:     "zitadel",
			in:       "user_id\n" + uid + "\n" + uid2 + "\n",
			provider: jobs.Zitadel,
			header:   []string{"user_id"},
			want:     []rec{{line: 2, user: uid}, {line: 3, user: uid2}},
		},
		{
			name:     "zitadel alias id",
			in:       "ID\n" + uid + "\n",
			provider: jobs.Zitadel,
			header:   []string{"ID"},
			want:     []rec{{line: 2, user: uid}},
		},
		{
			name:     "zitadel with org_id, empty or not",
			in:       "org_id,user_id\n" + zorg + "," + uid + "\n," + uid2 + "\n",
			provider: jobs.Zitadel,
			header:   []string{"org_id", "user_id"},
			want:     []rec{{line: 2, org: zorg, user: uid}, {line: 3, user: uid2}},
		},
		{
			name:     "zitadel org as organization_id, as reports name it",
			in:       "user_id,organization_id\n" + uid + "," + zorg + "\n",
			provider: jobs.Zitadel,
			header:   []string{"user_id", "organization_id"},
			want:     []rec{{line: 2, org: zorg, user: uid}},
		},
		{
			name:     "byte order mark",
			in:       "\uFEFFuser_id\n" + uid + "\n",
			provider: jobs.Zitadel,
			header:   []string{"user_id"},
			want:     []rec{{line: 2, user: uid}},
		},
		{
			name:     "byte order mark before a quoted header",
			in:       "\uFEFF\"user_id\",\"email\"\r\n" + uid + ",a@example.com\r\n",
			provider: jobs.Zitadel,
			header:   []string{"user_id", "email"},
			extra:    []string{"email"},
			want:     []rec{{line: 2, user: uid, extra: []string{"a@example.com"}}},
		},
		{
			name:     "CRLF",
			in:       "organization_id,member_id\r\n" + org + "," + mem + "\r\n\r\n" + org + "," + mem2 + "\r\n",
			provider: jobs.Stytch,
			header:   []string{"organization_id", "member_id"},
			want:     []rec{{line: 2, org: org, member: mem}, {line: 4, org: org, member: mem2}},
		},
		{
			name:     "no line end after the last row",
			in:       "user_id\r\n" + uid + "\r\n" + uid2,
			provider: jobs.Zitadel,
			header:   []string{"user_id"},
			want:     []rec{{line: 2, user: uid}, {line: 3, user: uid2}},
		},
		{
			name:     "semicolon detected",
			in:       "organization_id;member_id;name\n" + org + ";" + mem + ";Doe, Jane\n",
			provider: jobs.Stytch,
			header:   []string{"organization_id", "member_id", "name"},
			extra:    []string{"name"},
			want:     []rec{{line: 2, org: org, member: mem, extra: []string{"Doe, Jane"}}},
		},
		{
			name:     "tab detected, empty fields kept",
			in:       "user_id\torg_id\tnote\n" + uid + "\t\tx\n" + uid2 + "\t" + zorg + "\t\n",
			provider: jobs.Zitadel,
			header:   []string{"user_id", "org_id", "note"},
			extra:    []string{"note"},
			want:     []rec{{line: 2, user: uid, extra: []string{"x"}}, {line: 3, org: zorg, user: uid2, extra: []string{""}}},
		},
		{
			name:     "semicolon header whose names hold commas",
			in:       "user_id;name, first\n" + uid + ";Jane\n",
			provider: jobs.Zitadel,
			header:   []string{"user_id", "name, first"},
			extra:    []string{"name, first"},
			want:     []rec{{line: 2, user: uid, extra: []string{"Jane"}}},
		},
		{
			name:     "delimiter given",
			in:       "user_id|note\n" + uid + "|a,b;c\n",
			opts:     ingest.Options{Delimiter: '|'},
			provider: jobs.Zitadel,
			header:   []string{"user_id", "note"},
			extra:    []string{"note"},
			want:     []rec{{line: 2, user: uid, extra: []string{"a,b;c"}}},
		},
		{
			name:     "quoted fields with delimiters, quotes and line breaks",
			in:       "user_id,note,name\n\"" + uid + "\",\"a, b\",\"say \"\"hi\"\"\"\n" + uid2 + ",\"two\nlines\",x\n" + uid + ",c,d\n",
			provider: jobs.Zitadel,
			header:   []string{"user_id", "note", "name"},
			extra:    []string{"note", "name"},
			want: []rec{
				{line: 2, user: uid, extra: []string{"a, b", `say "hi"`}},
				{line: 3, user: uid2, extra: []string{"two\nlines", "x"}},
				{line: 5, user: uid, extra: []string{"c", "d"}},
			},
		},
		{
			name:     "quoted field after a space",
			in:       "user_id, note\n" + uid + ", \"a, b\"\n",
			provider: jobs.Zitadel,
			header:   []string{"user_id", "note"},
			extra:    []string{"note"},
			want:     []rec{{line: 2, user: uid, extra: []string{"a, b"}}},
		},
		{
			name:     "blank lines skipped, line numbers true to the file",
			in:       "\n\r\n  \nuser_id,note\n\n" + uid + ",a\n   \n,\n , \n\t\n" + uid2 + ",b\n\n\n",
			provider: jobs.Zitadel,
			header:   []string{"user_id", "note"},
			extra:    []string{"note"},
			want:     []rec{{line: 6, user: uid, extra: []string{"a"}}, {line: 11, user: uid2, extra: []string{"b"}}},
		},
		{
			name:     "ids and extra values trimmed",
			in:       "organization_id,member_id,email\n  " + org + "\t,  " + mem + " ,  a@example.com  \n",
			provider: jobs.Stytch,
			header:   []string{"organization_id", "member_id", "email"},
			extra:    []string{"email"},
			want:     []rec{{line: 2, org: org, member: mem, extra: []string{"a@example.com"}}},
		},
		{
			name:     "extra columns in header order around the key columns",
			in:       "email,member_id,name,organization_id,team\na@example.com," + mem + ",Ann," + org + ",red\n",
			provider: jobs.Stytch,
			header:   []string{"email", "member_id", "name", "organization_id", "team"},
			extra:    []string{"email", "name", "team"},
			want:     []rec{{line: 2, org: org, member: mem, extra: []string{"a@example.com", "Ann", "red"}}},
		},
		{
			name:     "wrong numbers of fields are invalid, reading goes on",
			in:       "user_id,note\n" + uid + ",a,b\n" + uid2 + "\n" + uid + ",c\n",
			provider: jobs.Zitadel,
			header:   []string{"user_id", "note"},
			extra:    []string{"note"},
			want: []rec{
				{line: 2, user: uid, extra: []string{"a"}, invalid: "wrong number of fields: got 3, want 2"},
				{line: 3, user: uid2, extra: []string{""}, invalid: "wrong number of fields: got 1, want 2"},
				{line: 4, user: uid, extra: []string{"c"}},
			},
		},
		{
			name:     "bare quote is invalid, reading goes on",
			in:       "user_id,note\n" + uid + ",5\" tall\n" + uid2 + ",b\n",
			provider: jobs.Zitadel,
			header:   []string{"user_id", "note"},
			extra:    []string{"note"},
			want: []rec{
				{line: 2, user: uid, extra: []string{""}, invalid: `bare " in non-quoted-field at line 2, column`},
				{line: 3, user: uid2, extra: []string{"b"}},
			},
		},
		{
			name:     "text after a closing quote is invalid, reading goes on",
			in:       "user_id,note\n" + uid + ",\"a\"b\n" + uid2 + ",b\n",
			provider: jobs.Zitadel,
			header:   []string{"user_id", "note"},
			extra:    []string{"note"},
			want: []rec{
				{line: 2, user: uid, extra: []string{""}, invalid: `extraneous or missing " in quoted-field at line 2`},
				{line: 3, user: uid2, extra: []string{"b"}},
			},
		},
		{
			name:     "quote left open on the last line",
			in:       "user_id,note\n" + uid + ",a\n" + uid2 + ",\"b\n",
			provider: jobs.Zitadel,
			header:   []string{"user_id", "note"},
			extra:    []string{"note"},
			want: []rec{
				{line: 2, user: uid, extra: []string{"a"}},
				{line: 3, user: uid2, extra: []string{""}, invalid: `extraneous or missing " in quoted-field at line 3`},
			},
		},
		{
			name:     "quote that swallows a line names the span",
			in:       "user_id,note\n\"" + uid + ",a\n" + uid2 + "\",b\n" + uid + ",c\n",
			provider: jobs.Zitadel,
			header:   []string{"user_id", "note"},
			extra:    []string{"note"},
			want: []rec{
				{line: 2, user: uid + ",a\n" + uid2, extra: []string{"b"}, invalid: "(the record spans lines 2-3: check its quotes)"},
				{line: 4, user: uid, extra: []string{"c"}},
			},
		},
		{
			name:     "invalid ids carry Validate's reason",
			in:       "organization_id,member_id\n" + org + ",\n," + mem + "\n" + org + ",user-123\n" + org + ",member-test-a/b\n" + org + "," + mem + "\n",
			provider: jobs.Stytch,
			header:   []string{"organization_id", "member_id"},
			want: []rec{
				{line: 2, org: org, invalid: "member_id: is empty"},
				{line: 3, member: mem, invalid: "organization_id: is empty"},
				{line: 4, org: org, member: "user-123", invalid: `member_id "user-123": a Stytch member id starts with`},
				{line: 5, org: org, member: "member-test-a/b", invalid: "contains a slash"},
				{line: 6, org: org, member: mem},
			},
		},
		{
			name:     "zitadel id that would change the URL",
			in:       "user_id,org_id\n../" + uid + ",\n" + uid + ",a?b\n",
			provider: jobs.Zitadel,
			header:   []string{"user_id", "org_id"},
			want: []rec{
				{line: 2, user: "../" + uid, invalid: "contains a slash"},
				{line: 3, org: "a?b", user: uid, invalid: `org_id "a?b": contains '?'`},
			},
		},
		{
			name:     "provider given: stytch over a header naming both",
			in:       "organization_id,member_id,user_id\n" + org + "," + mem + ",42\n",
			opts:     ingest.Options{Provider: jobs.Stytch},
			provider: jobs.Stytch,
			header:   []string{"organization_id", "member_id", "user_id"},
			extra:    []string{"user_id"},
			want:     []rec{{line: 2, org: org, member: mem, extra: []string{"42"}}},
		},
		{
			name:     "provider given: zitadel over a report header",
			in:       "line,provider,organization_id,member_id,user_id,outcome\n7,zitadel," + zorg + ",," + uid + ",not_found\n",
			opts:     ingest.Options{Provider: jobs.Zitadel},
			provider: jobs.Zitadel,
			header:   []string{"line", "provider", "organization_id", "member_id", "user_id", "outcome"},
			extra:    []string{"line", "provider", "member_id", "outcome"},
			want:     []rec{{line: 2, org: zorg, user: uid, extra: []string{"7", "zitadel", "", "not_found"}}},
		},
		{
			name:     "non-ASCII text, cut anywhere by the chunkings",
			in:       "user_id;name\n" + uid + ";Zoë Ångström 日本語 🙂\n",
			provider: jobs.Zitadel,
			header:   []string{"user_id", "name"},
			extra:    []string{"name"},
			want:     []rec{{line: 2, user: uid, extra: []string{"Zoë Ångström 日本語 🙂"}}},
		},
	}
	for _, tt := range tests {
		for _, ch := range chunkings {
			t.Run(tt.name+"/"+ch.name, func(t *testing.T) {
				t.Parallel()
				g := readAll(t, "in.csv", ch.wrap(strings.NewReader(tt.in)), tt.opts)
				if g.err != nil {
					t.Fatalf("reading %q: %v", tt.in, g.err)
				}
				if g.provider != tt.provider {
					t.Errorf("Provider() = %q, want %q", g.provider, tt.provider)
				}
				if !reflect.DeepEqual(g.header, tt.header) {
					t.Errorf("Header() = %q, want %q", g.header, tt.header)
				}
				if len(g.extra) > 0 || len(tt.extra) > 0 {
					if !reflect.DeepEqual(g.extra, tt.extra) {
						t.Errorf("ExtraColumns() = %q, want %q", g.extra, tt.extra)
					}
				}
				if ok, diff := matches(tt.provider, g.recs, tt.want); !ok {
					t.Errorf("records of %q:%s", tt.in, diff)
				}
				sum, err := ingest.Check("in.csv", ch.wrap(strings.NewReader(tt.in)), tt.opts)
				if err != nil {
					t.Fatalf("Check(%q) error = %v", tt.in, err)
				}
				want := ingest.Summary{Provider: tt.provider, Rows: len(g.recs)}
				for _, r := range g.recs {
					if r.Invalid != "" {
						want.Invalid++
					}
				}
				if sum != want {
					t.Errorf("Check(%q) = %+v, want %+v (as Next counts)", tt.in, sum, want)
				}
			})
		}
	}
}

func TestReaderFileErrors(t *testing.T) {
	t.Parallel()
	long := "user_id,note\n" + uid + ",\"" + strings.Repeat("a long note\n", 200_000) + "\"\n"
	tests := []struct {
		name string
		in   string
		opts ingest.Options
		line int
		msg  []string // parts of the message after "bad.csv line N: "
		rows int      // records yielded before the error
	}{
		{name: "empty", in: "", line: 1, msg: []string{"empty file: want organization_id and member_id or email (Stytch), or user_id, login_name, username or email (ZITADEL) in a header line"}},
		{name: "blank lines only", in: "\n  \r\n,,\n\t\n", line: 1, msg: []string{"empty file"}},
		{name: "byte order mark only", in: "\uFEFF", line: 1, msg: []string{"empty file"}},
		{name: "header only", in: "organization_id,member_id\n", line: 1, msg: []string{"header but no data rows: add one row per account below the header"}},
		{name: "header then blank lines", in: "\nuser_id\r\n\r\n , \n", line: 2, msg: []string{"header but no data rows"}},
		{
			name: "no usable header",
			in:   "name,note\nAnn,x\n",
			line: 1,
			msg:  []string{`no usable header: want organization_id and member_id or email (Stytch), or user_id, login_name, username or email (ZITADEL); found "name,note"`},
		},
		{name: "data without a header", in: org + "," + mem + "\n", line: 1, msg: []string{"no usable header", "looks like a data row: add a header line"}},
		{name: "zitadel data without a header", in: uid + "\n" + uid2 + "\n", line: 1, msg: []string{"looks like a data row"}},
		{name: "org column alone", in: "org_id\nx\n", line: 1, msg: []string{"no usable header", `found "org_id"`}},
		{name: "member without organization", in: "member_id,email\n" + mem + ",a\n", line: 1, msg: []string{"Stytch rows need organization_id (or org_id) and member_id (or member, or email)", `found "member_id,email"`}},
		{name: "header with a bad quote", in: "user_\"id\n1\n", line: 1, msg: []string{"no usable header"}},
		{name: "header past blank lines", in: "\n\nname\nx\n", line: 3, msg: []string{`found "name"`}},
		{name: "duplicate member columns", in: "organization_id,member_id,member\n" + org + "," + mem + "," + mem + "\n", line: 1, msg: []string{`duplicate key columns: "member_id" (column 2) and "member" (column 3) both hold the member_id; keep one`}},
		{name: "duplicate organization columns", in: "org_id,member_id,Organization_ID\nx,y,z\n", line: 1, msg: []string{`"org_id" (column 1) and "Organization_ID" (column 3) both hold the organization_id`}},
		{name: "duplicate user columns", in: "id,user_id\n1,1\n", line: 1, msg: []string{`"id" (column 1) and "user_id" (column 2) both hold the user_id`}},
		{name: "duplicate zitadel org columns", in: "user_id,org_id,organization_id\n1,2,3\n", line: 1, msg: []string{"both hold the org_id"}},
		{name: "same column twice", in: "user_id,user_id\n1,1\n", line: 1, msg: []string{"duplicate key columns"}},
		{name: "mixed providers", in: "organization_id,member_id,user_id\n" + org + "," + mem + "," + uid + "\n", line: 1, msg: []string{`mixed providers: "member_id" is a Stytch column and "user_id" a ZITADEL one; split the file per provider, or name the provider`}},
		{name: "mixed providers by aliases", in: "member,id\nx,y\n", line: 1, msg: []string{"mixed providers"}},
		{name: "stytch given, zitadel header", in: "user_id\n" + uid + "\n", opts: ingest.Options{Provider: jobs.Stytch}, line: 1, msg: []string{"Stytch rows need organization_id", "(the provider was given)", `found "user_id"`}},
		{name: "zitadel given, stytch header", in: "organization_id,member_id\nx,y\n", opts: ingest.Options{Provider: jobs.Zitadel}, line: 1, msg: []string{"ZITADEL rows need user_id (or id, login_name, username or email) (the provider was given)"}},
		{name: "delimiter given that does not fit", in: "user_id;note\n1;a\n", opts: ingest.Options{Delimiter: ','}, line: 1, msg: []string{`found "user_id;note"`}},
		{name: "NUL in the header", in: "user_id\x00\n1\n", line: 1, msg: []string{"binary content (a NUL byte at column 8): want a UTF-8 text CSV"}},
		{name: "binary file", in: "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", line: 1, msg: []string{"not UTF-8 (byte 0x89 at column 1): save the file as CSV UTF-8"}},
		{name: "NUL mid-way", in: "user_id\n" + uid + "\n" + uid2 + "\n12\x0034\n" + uid + "\n", line: 4, msg: []string{"binary content (a NUL byte at column 3)"}, rows: 2},
		{name: "NUL past the first 64 KiB", in: "user_id\n" + strings.Repeat(uid+"\n", 5000) + "\n" + uid + "\x00\n", line: 5003, msg: []string{"binary content (a NUL byte at column 19)"}, rows: 5000},
		{name: "latin-1 past the first 64 KiB", in: "user_id\n" + strings.Repeat(uid+"\n", 5000) + "caf\xe9\n" + uid + "\n", line: 5002, msg: []string{"not UTF-8 (byte 0xe9 at column 4)"}, rows: 5000},
		{name: "NUL on the first data row", in: "user_id\n\x00\n", line: 2, msg: []string{"binary content"}},
		{name: "latin-1 in the header", in: "user_id,pr\xe9nom\n1,a\n", line: 1, msg: []string{"not UTF-8 (byte 0xe9 at column 11)"}},
		{name: "latin-1 mid-way", in: "user_id,name\n" + uid + ",a\n\n" + uid2 + ",Ren\xe9\n", line: 4, msg: []string{"not UTF-8 (byte 0xe9 at column 23)"}, rows: 1},
		{name: "latin-1 inside a quoted multi-line field", in: "user_id,note\n" + uid + ",\"a\nb\xe9\"\n", line: 3, msg: []string{"not UTF-8 (byte 0xe9 at column 2)"}},
		{name: "UTF-8 cut at the end of the file", in: "user_id,name\n" + uid + ",Zo\xc3", line: 2, msg: []string{"not UTF-8 (byte 0xc3 at column 22)"}},
		{name: "surrogate half", in: "user_id\n" + uid + "\n\xed\xa0\x80\n", line: 3, msg: []string{"not UTF-8 (byte 0xed"}, rows: 1},
		{name: "UTF-16", in: "\xff\xfeu\x00s\x00e\x00r\x00", line: 1, msg: []string{"encoded as UTF-16 (it starts with a UTF-16 byte order mark): want UTF-8; save the file as CSV UTF-8"}},
		{name: "UTF-16 without byte order mark", in: "u\x00s\x00e\x00r\x00", line: 1, msg: []string{"binary content", "UTF-16"}},
		{
			name: "quote never closed",
			in:   "user_id,note\n" + uid + ",a\n" + uid2 + ",\"b\n" + uid + ",c\n" + uid2 + ",d\n",
			line: 3,
			msg:  []string{"a quoted field opened on this line never closes: it takes in every line to the end of the file (line 5); close the quote"},
			rows: 1,
		},
		{name: "record of more than 1 MiB", in: long, line: 2, msg: []string{"goes on for more than 1 MiB: a quote that never closes?"}},
		{name: "header longer than the window", in: "user_id," + strings.Repeat("x", 70_000) + "\n1,2\n", line: 1, msg: []string{"no usable header within the first 64 KiB"}},
	}
	for _, tt := range tests {
		for _, ch := range chunkings {
			t.Run(tt.name+"/"+ch.name, func(t *testing.T) {
				t.Parallel()
				g := readAll(t, "bad.csv", ch.wrap(strings.NewReader(tt.in)), tt.opts)
				var fe *ingest.FileError
				if !errors.As(g.err, &fe) {
					t.Fatalf("reading %.200q: error = %v, want a *FileError", tt.in, g.err)
				}
				if fe.File != "bad.csv" || fe.Line != tt.line {
					t.Errorf("reading %.200q: FileError at %s line %d, want bad.csv line %d (%v)", tt.in, fe.File, fe.Line, tt.line, fe)
				}
				prefix := fmt.Sprintf("bad.csv line %d: ", tt.line)
				if !strings.HasPrefix(fe.Error(), prefix) {
					t.Errorf("reading %.200q: error = %q, want it to start %q", tt.in, fe.Error(), prefix)
				}
				for _, m := range tt.msg {
					if !strings.Contains(fe.Msg, m) {
						t.Errorf("reading %.200q: error = %q, want it to hold %q", tt.in, fe.Error(), m)
					}
				}
				if len(g.recs) != tt.rows {
					t.Errorf("reading %.200q: %d records before the error, want %d", tt.in, len(g.recs), tt.rows)
				}
				_, err := ingest.Check("bad.csv", ch.wrap(strings.NewReader(tt.in)), tt.opts)
				if !errors.As(err, &fe) || err.Error() != g.err.Error() {
					t.Errorf("Check(%.200q) error = %v, want %v", tt.in, err, g.err)
				}
			})
		}
	}
}

func TestFileErrorMessage(t *testing.T) {
	t.Parallel()
	_, err := ingest.NewReader("users.csv", strings.NewReader("name,note\nx,y\n"), ingest.Options{})
	want := `users.csv line 1: no usable header: want organization_id and member_id or email (Stytch), or user_id, login_name, username or email (ZITADEL); found "name,note"`
	if err == nil || err.Error() != want {
		t.Errorf("NewReader(users.csv) error = %v, want %s", err, want)
	}
	e := &ingest.FileError{File: "users.csv", Msg: "cannot open"}
	if got, want := e.Error(), "users.csv: cannot open"; got != want {
		t.Errorf("FileError without a line = %q, want %q", got, want)
	}
}

func TestReaderErrorSticks(t *testing.T) {
	t.Parallel()
	in := "user_id\n" + uid + "\n" + uid2 + "\n\x00\n" + uid + "\n"
	rd, err := ingest.NewReader("bad.csv", strings.NewReader(in), ingest.Options{})
	if err != nil {
		t.Fatalf("NewReader(%q) error = %v", in, err)
	}
	for i := range 2 {
		if _, err := rd.Next(); err != nil {
			t.Fatalf("Next() #%d error = %v, want a record", i+1, err)
		}
	}
	_, first := rd.Next()
	_, again := rd.Next()
	var fe *ingest.FileError
	if !errors.As(first, &fe) || fe.Line != 4 || again != first {
		t.Errorf("Next() after line 3 = %v then %v, want the same *FileError for line 4 twice", first, again)
	}
	_, err = rd.Next()
	if err != first {
		t.Errorf("Next() at the end = %v, want %v again", err, first)
	}
}

func TestReaderEOFSticks(t *testing.T) {
	t.Parallel()
	rd, err := ingest.NewReader("in.csv", strings.NewReader("user_id\n"+uid+"\n"), ingest.Options{})
	if err != nil {
		t.Fatalf("NewReader error = %v", err)
	}
	if _, err := rd.Next(); err != nil {
		t.Fatalf("Next() error = %v", err)
	}
	for range 2 {
		if _, err := rd.Next(); !errors.Is(err, io.EOF) {
			t.Errorf("Next() at the end = %v, want io.EOF", err)
		}
	}
}

func TestReaderIOError(t *testing.T) {
	t.Parallel()
	boom := errors.New("disk on fire")
	tests := []struct {
		name string
		r    io.Reader
		rows int // records before the error
	}{
		{"at once", iotest.ErrReader(boom), 0},
		{"mid-way", io.MultiReader(strings.NewReader("user_id\n"+uid+"\n"+uid2+"\n"), iotest.ErrReader(boom)), 2},
		{"in a line with a bad quote", io.MultiReader(strings.NewReader("user_id,n\n"+uid+",a\n"+uid2+",5\""), iotest.ErrReader(boom)), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := readAll(t, "in.csv", tt.r, ingest.Options{})
			var fe *ingest.FileError
			if !errors.Is(g.err, boom) || errors.As(g.err, &fe) {
				t.Errorf("reading a failing reader: error = %v, want %v wrapped, not a *FileError", g.err, boom)
			}
			if len(g.recs) != tt.rows {
				t.Errorf("reading a failing reader: %d records before the error, want %d (%+v)", len(g.recs), tt.rows, g.recs)
			}
		})
	}
}

func TestNewReaderOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts ingest.Options
		want string
	}{
		{"unknown provider", ingest.Options{Provider: "okta"}, `unknown provider "okta"`},
		{"quote as delimiter", ingest.Options{Delimiter: '"'}, "delimiter"},
		{"newline as delimiter", ingest.Options{Delimiter: '\n'}, "delimiter"},
		{"invalid rune as delimiter", ingest.Options{Delimiter: 0xD800}, "delimiter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ingest.NewReader("in.csv", strings.NewReader("user_id\n1\n"), tt.opts)
			var fe *ingest.FileError
			if err == nil || errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewReader(%+v) error = %v, want a plain error holding %q", tt.opts, err, tt.want)
			}
		})
	}
}

func TestTestdata(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file     string
		provider jobs.Provider
		extra    []string
		want     ingest.Summary
		lines    []int
		invalid  map[int]string // line → part of the reason
	}{
		{
			file:     "stytch.csv",
			provider: jobs.Stytch,
			extra:    []string{"email", "name", "note"},
			// Line 7 has no member id but an email: a row the worker looks up.
			want:    ingest.Summary{Provider: jobs.Stytch, Rows: 5},
			lines:   []int{2, 3, 5, 7, 8},
			invalid: map[int]string{},
		},
		{
			file:     "zitadel.csv",
			provider: jobs.Zitadel,
			extra:    []string{"email", "display name"},
			want:     ingest.Summary{Provider: jobs.Zitadel, Rows: 6, Invalid: 2},
			lines:    []int{2, 3, 5, 6, 7, 9},
			invalid:  map[int]string{6: "contains a slash", 7: "wrong number of fields: got 5, want 4"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			g := readAll(t, tt.file, bytes.NewReader(data), ingest.Options{})
			if g.err != nil {
				t.Fatalf("reading %s: %v", tt.file, g.err)
			}
			if g.provider != tt.provider || !reflect.DeepEqual(g.extra, tt.extra) {
				t.Errorf("%s: provider %q, extra columns %q; want %q, %q", tt.file, g.provider, g.extra, tt.provider, tt.extra)
			}
			var lines []int
			for _, r := range g.recs {
				lines = append(lines, r.Row.Line)
				if want := tt.invalid[r.Row.Line]; (want == "") != (r.Invalid == "") || !strings.Contains(r.Invalid, want) {
					t.Errorf("%s line %d: Invalid = %q, want %q", tt.file, r.Row.Line, r.Invalid, want)
				}
				if len(r.Extra) != len(tt.extra) {
					t.Errorf("%s line %d: Extra = %q, want %d values", tt.file, r.Row.Line, r.Extra, len(tt.extra))
				}
			}
			if !reflect.DeepEqual(lines, tt.lines) {
				t.Errorf("%s: record lines = %v, want %v", tt.file, lines, tt.lines)
			}
			sum, err := ingest.Check(tt.file, bytes.NewReader(data), ingest.Options{})
			if err != nil || sum != tt.want {
				t.Errorf("Check(%s) = %+v, %v; want %+v", tt.file, sum, err, tt.want)
			}
		})
	}
}

// rowSource generates an endless ZITADEL CSV and counts the bytes it gave.
type rowSource struct {
	n    int
	buf  []byte
	read int
}

func (s *rowSource) Read(p []byte) (int, error) {
	if len(s.buf) == 0 {
		if s.n == 0 {
			s.buf = []byte("user_id,email\n")
		} else {
			s.buf = fmt.Appendf(nil, "%018d,user%d@example.com\n", s.n, s.n)
		}
		s.n++
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	s.read += n
	return n, nil
}

func TestReaderStreams(t *testing.T) {
	t.Parallel()
	src := &rowSource{}
	rd, err := ingest.NewReader("endless.csv", src, ingest.Options{})
	if err != nil {
		t.Fatalf("NewReader(endless) error = %v", err)
	}
	for i := range 10_000 {
		rec, err := rd.Next()
		if err != nil || rec.Invalid != "" || rec.Row.Line != i+2 {
			t.Fatalf("Next() #%d = %+v, %v; want a valid row at line %d", i+1, rec, err, i+2)
		}
	}
	// 10,000 rows are about 400 KiB; the reader may buffer ahead, but not much.
	if limit := 10_000*40 + 200<<10; src.read > limit {
		t.Errorf("NewReader and 10,000 Next() read %d bytes of an endless file, want at most %d", src.read, limit)
	}
}

func ExampleNewReader() {
	in := "organization_id,member_id,email\n" +
		"organization-test-07d6d0c4-1b4c-4f8a-9f0b-3b6c1c5e2a11,member-test-5a1f9e3c-2b7d-4c8e-a1f0-6d2e3b4c5a62,ann@example.com\n" +
		"\n" +
		"acme-corp,user-42,bob@example.com\n"
	rd, err := ingest.NewReader("members.csv", strings.NewReader(in), ingest.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rd.Provider(), rd.ExtraColumns())
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		if rec.Invalid != "" {
			fmt.Printf("line %d: invalid: %s\n", rec.Row.Line, rec.Invalid)
			continue
		}
		fmt.Printf("line %d: %s %s\n", rec.Row.Line, rec.Row.MemberID, rec.Extra[0])
	}
	// Output:
	// stytch [email]
	// line 2: member-test-5a1f9e3c-2b7d-4c8e-a1f0-6d2e3b4c5a62 ann@example.com
	// line 4: invalid: member_id "user-42": a Stytch member id starts with member-test- or member-live-
}

func ExampleCheck() {
	_, err := ingest.Check("users.csv", strings.NewReader("name,note\nAnn,x\n"), ingest.Options{})
	fmt.Println(err)
	sum, err := ingest.Check("users.csv", strings.NewReader("user_id;email;name\n284021839634282001;ann@example.com;Ann\n;bob@example.com;Bob\n;;Eve\n"), ingest.Options{})
	fmt.Printf("%+v %v\n", sum, err)
	// Output:
	// users.csv line 1: no usable header: want organization_id and member_id or email (Stytch), or user_id, login_name, username or email (ZITADEL); found "name,note"
	// {Provider:zitadel Rows:3 Invalid:1} <nil>
}

// benchFile is a generated Stytch CSV of n rows with two extra columns, a quoted one among them.
func benchFile(n int) []byte {
	var b bytes.Buffer
	b.WriteString("organization_id,member_id,email,note\r\n")
	for i := range n {
		fmt.Fprintf(&b, "organization-test-07d6d0c4-1b4c-4f8a-9f0b-%012d,member-test-5a1f9e3c-2b7d-4c8e-a1f0-%012d,user%d@example.com,\"Doe, J. #%d\"\r\n", i%97, i, i, i)
	}
	return b.Bytes()
}

func BenchmarkReader(b *testing.B) {
	const rows = 100_000
	data := benchFile(rows)
	read := func(b *testing.B) int {
		rd, err := ingest.NewReader("bench.csv", bytes.NewReader(data), ingest.Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			rec, err := rd.Next()
			if errors.Is(err, io.EOF) {
				return n
			}
			if err != nil || rec.Invalid != "" {
				b.Fatalf("Next() = %+v, %v", rec, err)
			}
			n++
		}
	}
	check := func(b *testing.B) int {
		sum, err := ingest.Check("bench.csv", bytes.NewReader(data), ingest.Options{})
		if err != nil || sum.Invalid != 0 {
			b.Fatalf("Check() = %+v, %v", sum, err)
		}
		return sum.Rows
	}
	for _, bm := range []struct {
		name string
		run  func(*testing.B) int
	}{{"Next", read}, {"Check", check}} {
		b.Run(bm.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if n := bm.run(b); n != rows {
					b.Fatalf("read %d rows, want %d", n, rows)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// TestReaderSpreadsheetNumbers: an id cell a spreadsheet turned into a number is an invalid row
// whose message says so and names the column; ids that merely look numeric stay valid.
func TestReaderSpreadsheetNumbers(t *testing.T) {
	t.Parallel()
	const msg = "this looks like a number a spreadsheet rewrote (scientific notation): export the column as text"
	cases := []struct {
		name, header, cell string
		damaged            bool
	}{
		{"excel scientific", "user_id", "3.30154E+17", true},
		{"decimal comma", "user_id", "1,23457E+17", true},
		{"fifteen digits", "user_id", "6.96290129064883E+16", true},
		{"lower-case e", "user_id", "3.30154e+17", true},
		{"no decimals", "user_id", "3E+17", true},
		{"decimal point", "user_id", "69629012906488300.0", true},
		{"decimal comma, zeros", "user_id", "69629012906488300,00", true},
		{"header as written", "ID", "3.30154E+17", true},
		{"zitadel org id", "org_id", "2.84022E+17", true},
		{"stytch member id", "member_id", "3.30154E+17", true},
		{"plain digits", "user_id", "330154000000000000", false},
		{"no exponent sign", "user_id", "3E17", false},
		{"negative exponent", "user_id", "3.3E-17", false},
		{"small exponent", "user_id", "1.2E+5", false},
		{"leading zero", "user_id", "0.5E+17", false},
		{"two points", "user_id", "1.2.3E+17", false},
		{"text after it", "user_id", "3.30154E+17x", false},
		{"short with a point", "user_id", "12345.0", false},
		{"not only zeros after the point", "user_id", "69629012906488300.5", false},
		{"letters", "user_id", "user-1.0", false},
		{"three-digit exponent", "user_id", "1E+100", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var header, row string
			switch c.header {
			case "member_id":
				header, row = "organization_id;member_id", org+";"+c.cell
			case "org_id":
				header, row = "user_id;org_id", uid+";"+c.cell
			default:
				header, row = c.header, c.cell
			}
			rd, err := ingest.NewReader("ids.csv", strings.NewReader(header+"\n"+row+"\n"), ingest.Options{Delimiter: ';'})
			if err != nil {
				t.Fatal(err)
			}
			rec, err := rd.Next()
			if err != nil {
				t.Fatal(err)
			}
			want := c.header + " " + fmt.Sprintf("%q", c.cell) + ": " + msg
			switch {
			case c.damaged && rec.Invalid != want:
				t.Errorf("cell %q: Invalid = %q, want %q", c.cell, rec.Invalid, want)
			case !c.damaged && strings.Contains(rec.Invalid, "spreadsheet"):
				t.Errorf("cell %q: Invalid = %q, want an id (it is not clearly a spreadsheet number)", c.cell, rec.Invalid)
			case !c.damaged && c.header != "member_id" && rec.Invalid != "":
				t.Errorf("cell %q: Invalid = %q, want a valid row", c.cell, rec.Invalid)
			}
		})
	}
}
