// This file is responsible for reading one CSV file of accounts into rows, streaming, and for
// refusing, with a message that names the file and the line, a file that cannot be such a CSV.

// Package ingest turns CSV files into validated rows and records them as runs in the run store,
// whose rows the workers' window queues as reactivate tasks. The inbox pick-up of schedules,
// which ingests each new file of an inbox, is internal/schedule's.
package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"reactivator/jobs"
)

const (
	// readAhead is the size of the buffer between the file and the CSV parser, and the most the
	// header (with any blank lines before it) may take.
	readAhead = 64 << 10
	// maxRecordBytes bounds one record, so that a quote that never closes cannot make the parser
	// hold the rest of a large file in memory.
	maxRecordBytes = 1 << 20
	// wantHeader says what a usable header holds, for the messages of refused files.
	wantHeader = "want organization_id and member_id or email (Stytch), or user_id, login_name, username or email (ZITADEL)"
)

// Options say how to read a file.
type Options struct {
	// Provider is the provider of the file's rows; "" reads it from the header. When set, the
	// header must hold that provider's columns, and the other provider's columns are extra columns.
	Provider jobs.Provider
	// Delimiter separates the fields; 0 detects it among ',' ';' and tab from the header line
	// (the one that yields a usable header, ',' first).
	Delimiter rune
}

// Record is one data row of a file: a row to queue, or an invalid one with its reason.
type Record struct {
	// Row has Line set (the 1-based line where the record starts; the header is line 1),
	// Provider, and the ids, trimmed. An invalid record keeps the ids it could read.
	Row jobs.Row
	// Extra holds the values of the extra columns, trimmed, in header order; it always has as
	// many values as Reader.ExtraColumns has names ("" for a value missing from the record).
	Extra []string
	// Invalid says why the row is unusable ("" when it is valid): a wrong number of fields, a
	// bad quote, or an empty or invalid id (jobs.Row.Validate's message).
	Invalid string
}

// Summary counts the records of a file.
type Summary struct {
	Provider jobs.Provider
	// Rows counts the data records, the invalid ones included; blank lines are not rows.
	Rows int
	// Invalid counts the records with a non-empty Record.Invalid.
	Invalid int
}

// FileError is a file that cannot be a CSV of either kind: it names the file, the line, what was
// expected, and what to do.
type FileError struct {
	File string
	// Line is the 1-based line of the file the problem is on (the header is line 1).
	Line int
	Msg  string
}

// Error returns the refusal as "FILE line N: MESSAGE" (without " line N" when Line is 0).
func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s line %d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Reader streams the records of one CSV file in constant memory.
//
// The file is UTF-8, with or without a byte order mark, with CRLF or LF line ends; quoted fields
// follow RFC 4180 and may span lines. Blank lines, and lines whose fields are all empty (the
// ",,," rows spreadsheets export), are skipped but still counted in line numbers. Every other
// record is yielded once, valid or not: duplicates are the caller's business.
type Reader struct {
	name     string
	provider jobs.Provider
	comma    rune
	header   []string
	cols     columns
	extra    []string // names of the extra columns
	chk      *checker
	br       *bufio.Reader
	cr       *csv.Reader
	bom      int64 // length of the byte order mark skipped before the parser
	pending  *Record
	lastEnd  int   // last line of the latest record read
	err      error // sticky error of Next
	// fromReport is true for a report fed back in: its cells were neutralised for spreadsheets
	// (report.NeutraliseCell, jobs/report) and are read back as they were.
	fromReport bool
}

// reportOwn are the report's own column names (jobs.ReportColumns), lower-cased.
var reportOwn = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range jobs.ReportColumns {
		m[c] = true
	}
	return m
}()

// isReport reports whether a header is a report's: it has every one of the report's own columns.
func isReport(fields []string) bool {
	seen := map[string]bool{}
	for _, f := range fields {
		if l := strings.ToLower(f); reportOwn[l] {
			seen[l] = true
		}
	}
	return len(seen) == len(reportOwn)
}

// unneutralise undoes report.NeutraliseCell (jobs/report): a cell of a report that starts with a
// single quote followed by what a spreadsheet would run as a formula gets its quote back off.
func unneutralise(s string) string {
	if len(s) >= 2 && s[0] == '\'' {
		switch s[1] {
		case '=', '+', '-', '@', '\t', '\r':
			return s[1:]
		}
	}
	return s
}

// maxRawCells bounds the record as read that an invalid row's message quotes.
const maxRawCells = 500

// columns holds the index of each key column in a record (-1 when absent) and of the extra ones.
type columns struct {
	org, member, user int
	extra             []int
	// lookup are the columns that name an account without its id, in the order a row without an
	// id tries them. They are extra columns too: their cells travel to the report.
	lookup []lookupColumn
}

// lookupColumn is a column that names accounts by email, login name or user name.
type lookupColumn struct {
	kind jobs.Lookup
	i    int
	name string // as the header writes it
}

// NewReader reads and checks the header of the file r, named name in messages, and reads ahead
// to its first data row. A file that cannot be a CSV of either kind gives a *FileError: an empty
// file, one with a header and no data rows, binary or non-UTF-8 content, no usable header,
// duplicate key columns, or the key columns of both providers. Invalid options give a plain error.
func NewReader(name string, r io.Reader, o Options) (*Reader, error) {
	if o.Provider != "" {
		if _, err := jobs.ParseProvider(string(o.Provider)); err != nil {
			return nil, fmt.Errorf("ingest options: %w", err)
		}
	}
	if o.Delimiter != 0 && !validDelim(o.Delimiter) {
		return nil, fmt.Errorf("ingest options: delimiter %q cannot separate fields", o.Delimiter)
	}
	chk := &checker{r: r, file: name, line: 1}
	br := bufio.NewReaderSize(chk, readAhead)
	var bom int64
	if b, _ := br.Peek(3); bytes.HasPrefix(b, []byte("\uFEFF")) {
		_, _ = br.Discard(3) // cannot fail: the bytes are buffered
		bom = 3
	}
	h, err := findHeader(name, br, o)
	if err != nil {
		return nil, err
	}
	rd := &Reader{
		name:     name,
		provider: h.provider,
		comma:    h.comma,
		header:   h.fields,
		cols:     h.cols,
		chk:      chk,
		br:       br,
		cr:       newCSV(br, h.comma),
		bom:      bom,
	}
	if isReport(h.fields) {
		// A report fed back in (report --failed-only, or a run's FILE.failed.csv): its own columns
		// describe the last round, not the accounts. Only the input's extra columns go on, so every
		// round's report has the same columns as the first.
		rd.fromReport = true
		rd.cols.extra = nil
		for _, i := range h.cols.extra {
			if !reportOwn[strings.ToLower(h.fields[i])] {
				rd.cols.extra = append(rd.cols.extra, i)
			}
		}
	}
	for _, i := range rd.cols.extra {
		rd.extra = append(rd.extra, h.fields[i])
	}
	// The parser reads the header again from the stream, so that its line numbers are the file's.
	for {
		rd.markRecord()
		fields, err := rd.cr.Read()
		if err != nil {
			// findHeader parsed these same bytes with the same settings.
			return nil, fmt.Errorf("read %s header: %w", name, err)
		}
		if !blank(fields) {
			rd.lastEnd = endLine(rd.cr, fields)
			break
		}
	}
	first, err := rd.read()
	if errors.Is(err, io.EOF) {
		return nil, &FileError{File: name, Line: h.line, Msg: "header but no data rows: add one row per account below the header"}
	}
	if err != nil {
		return nil, err
	}
	rd.pending = &first
	return rd, nil
}

// Provider returns the provider of the file's rows.
func (r *Reader) Provider() jobs.Provider { return r.provider }

// Header returns the column names as written in the file (trimmed, case kept).
func (r *Reader) Header() []string { return append([]string(nil), r.header...) }

// ExtraColumns returns the names of the columns that are not key columns, in header order;
// Record.Extra holds their values.
func (r *Reader) ExtraColumns() []string { return append([]string(nil), r.extra...) }

// Next returns the next record, or io.EOF after the last one. A file that turns out unusable
// mid-way (binary, not UTF-8, a quote that never closes) gives a *FileError; an I/O error of the
// underlying reader is returned wrapped. Once Next returned an error it returns it again.
func (r *Reader) Next() (Record, error) {
	if r.pending != nil {
		rec := *r.pending
		r.pending = nil
		return rec, nil
	}
	if r.err != nil {
		return Record{}, r.err
	}
	rec, err := r.read()
	if err != nil {
		r.err = err
	}
	return rec, err
}

// read parses the next non-blank record.
func (r *Reader) read() (Record, error) {
	for {
		r.markRecord()
		fields, err := r.cr.Read()
		if err == nil {
			if blank(fields) {
				continue
			}
			line, _ := r.cr.FieldPos(0)
			end := endLine(r.cr, fields)
			r.lastEnd = end
			return r.record(line, end, fields, ""), nil
		}
		if errors.Is(err, io.EOF) {
			return Record{}, io.EOF
		}
		// Declared here, not above: errors.As makes them escape, and the loop above is hot.
		var fe *FileError
		if errors.As(err, &fe) {
			return Record{}, fe
		}
		var pe *csv.ParseError
		if !errors.As(err, &pe) {
			return Record{}, fmt.Errorf("read %s: %w", r.name, err)
		}
		// A parse error hides a read error of the same record: a record that reaches a line
		// the checker refused is cut short, and the refusal is the answer.
		if errors.As(r.chk.err, &fe) && fe.Line <= pe.Line {
			return Record{}, fe
		}
		if r.chk.err != nil && fe == nil && r.br.Buffered() == 0 {
			return Record{}, fmt.Errorf("read %s: %w", r.name, r.chk.err)
		}
		r.lastEnd = pe.Line
		if pe.Err == csv.ErrQuote && pe.Line > pe.StartLine && r.atEOF() {
			return Record{}, &FileError{File: r.name, Line: pe.StartLine, Msg: fmt.Sprintf(
				"a quoted field opened on this line never closes: it takes in every line to the end of the file (line %d); close the quote, or double a quote meant as text (\"\")",
				pe.Line)}
		}
		reason := fmt.Sprintf("%v at line %d, column %d: quote the whole field and double each quote inside it (\"\")", pe.Err, pe.Line, pe.Column)
		return r.record(pe.StartLine, pe.Line, fields, reason), nil
	}
}

// atEOF reports whether the parser has consumed the whole file.
func (r *Reader) atEOF() bool {
	// The parser reads from br (encoding/csv keeps a large enough *bufio.Reader as it is).
	_, err := r.br.Peek(1)
	return errors.Is(err, io.EOF)
}

// record builds the Record of fields, read from lines line..end; reason, when not empty, is why the
// record could not be parsed.
func (r *Reader) record(line, end int, fields []string, reason string) Record {
	get := func(i int) string {
		if i >= 0 && i < len(fields) {
			if r.fromReport {
				return unneutralise(strings.TrimSpace(fields[i]))
			}
			return strings.TrimSpace(fields[i])
		}
		return ""
	}
	rec := Record{Row: jobs.Row{
		Line:     line,
		Provider: r.provider,
		OrgID:    get(r.cols.org),
		MemberID: get(r.cols.member),
		UserID:   get(r.cols.user),
	}}
	lookupEmpty := r.lookup(&rec.Row, get)
	if len(r.cols.extra) > 0 {
		rec.Extra = make([]string, len(r.cols.extra))
		for j, i := range r.cols.extra {
			rec.Extra[j] = get(i)
		}
	}
	malformed := reason != ""
	if reason == "" && len(fields) != len(r.header) {
		reason = fmt.Sprintf("wrong number of fields: got %d, want %d as in the header", len(fields), len(r.header))
		malformed = true
	}
	if reason == "" {
		reason = r.spreadsheetDamage(fields)
	}
	if reason == "" {
		reason = lookupEmpty
	}
	if reason == "" {
		if err := rec.Row.Validate(); err != nil {
			reason = err.Error()
		}
	}
	if reason != "" && end > line {
		reason += fmt.Sprintf(" (the record spans lines %d-%d: check its quotes)", line, end)
	}
	if malformed && len(fields) > 0 {
		// The cells cannot all be placed in columns: the message keeps them as read, so that
		// nothing of the row is lost on its way through the report.
		reason += "; the record as read: " + r.rawCells(fields)
	}
	rec.Invalid = reason
	return rec
}

// lookup names row's account by the first lookup column with a value when the row has no id. It
// returns why the row is unusable when it has neither an id nor a lookup value, "" otherwise.
func (r *Reader) lookup(row *jobs.Row, get func(int) string) string {
	if len(r.cols.lookup) == 0 || row.MemberID != "" || row.UserID != "" {
		return ""
	}
	var names []string
	if i := r.cols.member; i >= 0 {
		names = append(names, r.header[i])
	}
	if i := r.cols.user; i >= 0 {
		names = append(names, r.header[i])
	}
	for _, c := range r.cols.lookup {
		if v := get(c.i); v != "" {
			row.Lookup, row.LookupValue = c.kind, v
			return ""
		}
		names = append(names, c.name)
	}
	return fmt.Sprintf("nothing names the account: %s are all empty; give its id or its %s", strings.Join(names, ", "), r.cols.lookup[0].name)
}

// rawCells writes fields back as one CSV record with the file's delimiter, cut at maxRawCells.
func (r *Reader) rawCells(fields []string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Comma = r.comma
	_ = w.Write(fields) // cannot fail: a strings.Builder
	w.Flush()
	s := strings.TrimRight(b.String(), "\r\n")
	if len(s) > maxRawCells {
		cut := maxRawCells
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// markRecord tells the checker where the next record starts, to bound its size.
func (r *Reader) markRecord() {
	r.chk.recStart = r.bom + r.cr.InputOffset()
	r.chk.recLine = r.lastEnd + 1
}

// Check reads a whole file once without keeping rows (constant memory) and returns its counts, or
// the error that would refuse it (a *FileError for a file that cannot be a CSV of either kind).
// Ingest calls it first so that nothing is queued for a refused file.
func Check(name string, r io.Reader, o Options) (Summary, error) {
	rd, err := NewReader(name, r, o)
	if err != nil {
		return Summary{}, err
	}
	s := Summary{Provider: rd.Provider()}
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return s, nil
		}
		if err != nil {
			return Summary{}, err
		}
		s.Rows++
		if rec.Invalid != "" {
			s.Invalid++
		}
	}
}

// newCSV returns the parser used for the header and the records, so both agree.
func newCSV(r io.Reader, comma rune) *csv.Reader {
	cr := csv.NewReader(r)
	cr.Comma = comma
	cr.FieldsPerRecord = -1 // field counts are checked against the header, record by record
	cr.ReuseRecord = true
	// Allow `a, "b"`; with a tab delimiter, trimming leading space would swallow empty fields.
	cr.TrimLeadingSpace = !unicode.IsSpace(comma)
	return cr
}

// blank reports whether a record has no content: a line of spaces or of delimiters only.
func blank(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// endLine returns the last line of the record just read: quoted fields may hold line breaks,
// which the parser keeps as '\n'.
func endLine(cr *csv.Reader, fields []string) int {
	last := len(fields) - 1
	line, _ := cr.FieldPos(last)
	return line + strings.Count(fields[last], "\n")
}

// validDelim mirrors encoding/csv's rule for a delimiter.
func validDelim(r rune) bool {
	return r != 0 && r != '"' && r != '\r' && r != '\n' && utf8.ValidRune(r) && r != utf8.RuneError
}

// header is what findHeader learnt from the file's first non-blank record.
type header struct {
	comma    rune
	fields   []string // trimmed
	line     int
	provider jobs.Provider
	cols     columns
}

// candidate is the header as one delimiter reads it.
type candidate struct {
	header
	incomplete bool   // the window ends inside, or before, the header record
	empty      bool   // no header at all: the file holds nothing but blank lines
	problem    string // why the header is unusable; "" when it is usable
	recognised bool   // the header names key columns, so its problem says more than another's
}

// findHeader picks the delimiter that yields a usable header (or takes the given one) by
// parsing the start of the file, which it peeks at without consuming it.
func findHeader(name string, br *bufio.Reader, o Options) (header, error) {
	commas := []rune{',', ';', '\t'}
	if o.Delimiter != 0 {
		commas = []rune{o.Delimiter}
	}
	for n := 4 << 10; ; n = min(2*n, readAhead) {
		buf, err := br.Peek(n)
		atEOF := errors.Is(err, io.EOF)
		var failed error // the file turned unreadable within the window
		if err != nil && !atEOF {
			failed = err
		}
		cands := make([]candidate, len(commas))
		more := false
		for i, c := range commas {
			cands[i] = readCandidate(buf, atEOF, c, o.Provider)
			more = more || cands[i].incomplete
		}
		if more && failed == nil && n < readAhead {
			continue
		}
		for _, c := range cands {
			if !c.incomplete && !c.empty && c.problem == "" {
				return c.header, nil
			}
		}
		if failed != nil {
			var fe *FileError
			if errors.As(failed, &fe) {
				return header{}, fe
			}
			return header{}, fmt.Errorf("read %s: %w", name, failed)
		}
		for _, c := range cands {
			if c.incomplete {
				return header{}, &FileError{File: name, Line: 1, Msg: fmt.Sprintf(
					"no usable header within the first %d KiB: %s, on one short line naming the columns", readAhead>>10, wantHeader)}
			}
		}
		for _, c := range cands {
			if c.empty {
				return header{}, &FileError{File: name, Line: 1, Msg: fmt.Sprintf(
					"empty file: %s in a header line, then one row per account", wantHeader)}
			}
		}
		pick := cands[0]
		for _, c := range cands {
			if c.recognised {
				pick = c
				break
			}
		}
		return header{}, &FileError{File: name, Line: pick.line, Msg: pick.problem}
	}
}

// readCandidate parses the first non-blank record of buf, the start of the file, as a header
// separated by comma. atEOF says that buf holds the whole file.
func readCandidate(buf []byte, atEOF bool, comma rune, want jobs.Provider) candidate {
	c := candidate{header: header{comma: comma}}
	cr := newCSV(bytes.NewReader(buf), comma)
	for {
		start := cr.InputOffset()
		fields, err := cr.Read()
		end := cr.InputOffset()
		if errors.Is(err, io.EOF) {
			c.empty = atEOF
			c.incomplete = !atEOF
			return c
		}
		if !atEOF && end == int64(len(buf)) && buf[end-1] != '\n' {
			c.incomplete = true // the record may go on past the window
			return c
		}
		raw := quoteRaw(buf[start:end])
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			c.line = pe.StartLine
			c.problem = fmt.Sprintf("no usable header: %v at line %d, column %d; %s; found %s", pe.Err, pe.Line, pe.Column, wantHeader, raw)
			return c
		}
		if err != nil { // cannot happen: buf is in memory
			c.line = 1
			c.problem = fmt.Sprintf("no usable header: %v", err)
			return c
		}
		if blank(fields) {
			continue
		}
		c.line, _ = cr.FieldPos(0)
		c.fields = make([]string, len(fields))
		for i, f := range fields {
			c.fields[i] = strings.TrimSpace(f)
		}
		c.provider, c.cols, c.problem, c.recognised = resolve(c.fields, want, raw)
		if c.problem != "" && want == "" {
			// A report fed back in (reactivator report --failed-only) has both providers' columns
			// and a provider column: its first row says which provider the file is for.
			if p, ok, incomplete := reportProvider(cr, c.fields, buf, atEOF); incomplete {
				c.incomplete = true
			} else if ok {
				c.provider, c.cols, c.problem, c.recognised = resolve(c.fields, p, raw)
			}
		}
		return c
	}
}

// reportProvider reads the provider column of the first data row after a header that has one.
func reportProvider(cr *csv.Reader, fields []string, buf []byte, atEOF bool) (p jobs.Provider, ok, incomplete bool) {
	col := -1
	for i, f := range fields {
		if strings.EqualFold(f, "provider") {
			col = i
		}
	}
	if col < 0 {
		return "", false, false
	}
	for {
		rec, err := cr.Read()
		end := cr.InputOffset()
		if errors.Is(err, io.EOF) && atEOF {
			// No row says which provider: the file holds none, which NewReader refuses as
			// header-only with its own message. Either provider reads the header.
			return jobs.Stytch, true, false
		}
		if errors.Is(err, io.EOF) {
			return "", false, true
		}
		if !atEOF && end == int64(len(buf)) && buf[end-1] != '\n' {
			return "", false, true
		}
		if err != nil {
			return "", false, false
		}
		if blank(rec) {
			continue
		}
		if col >= len(rec) {
			return "", false, false
		}
		p, perr := jobs.ParseProvider(strings.ToLower(strings.TrimSpace(rec[col])))
		return p, perr == nil, false
	}
}

// role is what a key column holds.
type role int

const (
	roleOrg role = iota
	roleMember
	roleUser
)

// The key columns of each provider, by lower-case name.
var (
	stytchColumns = map[string]role{
		"organization_id": roleOrg, "org_id": roleOrg,
		"member_id": roleMember, "member": roleMember,
	}
	// organization_id is accepted beside org_id because reports name the column so.
	zitadelColumns = map[string]role{
		"user_id": roleUser, "id": roleUser,
		"org_id": roleOrg, "organization_id": roleOrg,
	}
)

// resolve finds the provider and the key columns of a header: want, or the one the header names.
// raw is the header as written, for messages.
func resolve(fields []string, want jobs.Provider, raw string) (p jobs.Provider, cols columns, problem string, recognised bool) {
	member, user, org, email, name := -1, -1, -1, -1, -1
	for i, f := range fields {
		n := strings.ToLower(f)
		_, s := stytchColumns[n]
		_, z := zitadelColumns[n]
		l, isLookup := jobs.ParseLookup(n)
		recognised = recognised || s || z || isLookup
		switch {
		case s && stytchColumns[n] == roleMember && member < 0:
			member = i
		case z && zitadelColumns[n] == roleUser && user < 0:
			user = i
		case s && stytchColumns[n] == roleOrg && org < 0:
			org = i
		case l == jobs.LookupEmail && email < 0:
			email = i
		case isLookup && name < 0:
			name = i
		}
	}
	p = want
	if p == "" {
		switch {
		case member >= 0 && user >= 0:
			return "", cols, fmt.Sprintf("mixed providers: %q is a Stytch column and %q a ZITADEL one; split the file per provider, or name the provider (--provider)",
				fields[member], fields[user]), true
		case member >= 0:
			p = jobs.Stytch
		case user >= 0:
			p = jobs.Zitadel
		// Without an id column: login names and user names are ZITADEL's; an email with an
		// organization column is a Stytch member's (Stytch looks members up within one), an email
		// alone a ZITADEL user's.
		case name >= 0:
			p = jobs.Zitadel
		case email >= 0 && org >= 0:
			p = jobs.Stytch
		case email >= 0:
			p = jobs.Zitadel
		default:
			problem = fmt.Sprintf("no usable header: %s; found %s", wantHeader, raw)
			if looksLikeData(fields) {
				problem += "; that looks like a data row: add a header line above it"
			}
			return "", cols, problem, recognised
		}
	}
	known := stytchColumns
	if p == jobs.Zitadel {
		known = zitadelColumns
	}
	cols = columns{org: -1, member: -1, user: -1}
	for i, f := range fields {
		ro, ok := known[strings.ToLower(f)]
		if !ok {
			cols.extra = append(cols.extra, i)
			continue
		}
		slot := cols.slot(ro)
		if *slot >= 0 {
			return "", cols, fmt.Sprintf("duplicate key columns: %q (column %d) and %q (column %d) both hold the %s; keep one",
				fields[*slot], *slot+1, f, i+1, roleName(p, ro)), true
		}
		*slot = i
	}
	given := ""
	if want != "" {
		given = " (the provider was given)"
	}
	cols.lookup = lookupColumns(fields, p)
	switch {
	case p == jobs.Stytch && (cols.org < 0 || cols.member < 0 && len(cols.lookup) == 0):
		return "", cols, fmt.Sprintf("no usable header: Stytch rows need organization_id (or org_id) and member_id (or member, or email)%s; found %s", given, raw), recognised
	case p == jobs.Zitadel && cols.user < 0 && len(cols.lookup) == 0:
		return "", cols, fmt.Sprintf("no usable header: ZITADEL rows need user_id (or id, login_name, username or email)%s; found %s", given, raw), recognised
	}
	return p, cols, "", recognised
}

// lookupColumns returns the columns of fields that name p's accounts without their ids, in the
// order a row tries them: ZITADEL login_name, username, then email; Stytch email only. The first
// column of each name counts; a repeat is an extra column like any other.
func lookupColumns(fields []string, p jobs.Provider) []lookupColumn {
	order := []jobs.Lookup{jobs.LookupLoginName, jobs.LookupUsername, jobs.LookupEmail}
	if p == jobs.Stytch {
		order = []jobs.Lookup{jobs.LookupEmail}
	}
	var out []lookupColumn
	for _, kind := range order {
		for i, f := range fields {
			if l, ok := jobs.ParseLookup(strings.ToLower(f)); ok && l == kind {
				out = append(out, lookupColumn{kind: kind, i: i, name: f})
				break
			}
		}
	}
	return out
}

// slot returns the index field of a key role.
func (c *columns) slot(ro role) *int {
	switch ro {
	case roleOrg:
		return &c.org
	case roleMember:
		return &c.member
	}
	return &c.user
}

// roleName names what a key column holds, by its canonical column name.
func roleName(p jobs.Provider, ro role) string {
	switch {
	case ro == roleMember:
		return "member_id"
	case ro == roleUser:
		return "user_id"
	case p == jobs.Zitadel:
		return "org_id"
	}
	return "organization_id"
}

// looksLikeData reports whether a would-be header holds ids rather than column names.
func looksLikeData(fields []string) bool {
	for _, f := range fields {
		if strings.HasPrefix(f, "member-") || strings.HasPrefix(f, "organization-") {
			return true
		}
		if len(f) >= 15 && strings.Trim(f, "0123456789") == "" {
			return true // ZITADEL ids are long decimal numbers
		}
	}
	return false
}

// quoteRaw quotes a record as written, shortened, for a message.
func quoteRaw(b []byte) string {
	const max = 120
	s := strings.TrimSpace(string(b))
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q…", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}

// checker passes a file through while checking that it is text: UTF-8 without NUL bytes. It
// counts lines to name the one at fault, and bounds the bytes one record may take. Its errors are
// *FileError and stick: once failed, every Read fails alike.
type checker struct {
	r         io.Reader
	file      string
	err       error
	off       int64 // bytes passed on so far
	line      int   // line of the next byte (1-based)
	lineStart int64 // offset where that line starts
	carry     [utf8.UTFMax]byte
	nc        int // bytes of a rune cut by the end of the previous read, in carry
	// Set by the Reader before each record: where the record starts, and its earliest line.
	recStart int64
	recLine  int
}

func (c *checker) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.off-c.recStart > maxRecordBytes+readAhead {
		c.err = &FileError{File: c.file, Line: c.recLine, Msg: fmt.Sprintf(
			"the record that starts here (or on a later line) goes on for more than %d MiB: a quote that never closes? close it, or double a quote meant as text (\"\")",
			maxRecordBytes>>20)}
		return 0, c.err
	}
	n, err := c.r.Read(p)
	off := c.off
	if good, ferr := c.scan(p[:n]); ferr != nil {
		c.err = ferr
		return good, ferr
	}
	if errors.Is(err, io.EOF) && c.nc > 0 {
		c.err = c.notUTF8(c.carry[0], c.off-int64(c.nc))
		return int(max(c.lineStart-off, 0)), c.err
	}
	if err != nil && !errors.Is(err, io.EOF) {
		c.err = err
	}
	return n, err
}

// scan checks the next bytes b of the file. On a fault it returns how many bytes of b come before
// the faulty line, and the error.
func (c *checker) scan(b []byte) (int, error) {
	i := 0
	if c.nc > 0 { // finish the rune the previous read cut
		for i < len(b) && !utf8.FullRune(c.carry[:c.nc]) {
			c.carry[c.nc] = b[i]
			c.nc++
			i++
		}
		if !utf8.FullRune(c.carry[:c.nc]) {
			c.off += int64(len(b))
			return len(b), nil
		}
		if r, size := utf8.DecodeRune(c.carry[:c.nc]); r == utf8.RuneError && size == 1 {
			return 0, c.notUTF8(c.carry[0], c.off-int64(c.nc-i))
		}
		c.nc = 0
	}
	rest := b[i:]
	// Keep apart a rune cut by the end of b.
	j := len(rest)
	for k := 1; k < utf8.UTFMax && k <= len(rest); k++ {
		x := rest[len(rest)-k]
		if x < utf8.RuneSelf {
			break
		}
		if utf8.RuneStart(x) {
			if !utf8.FullRune(rest[len(rest)-k:]) {
				j = len(rest) - k
			}
			break
		}
	}
	body := rest[:j]
	base := c.off + int64(i) // offset of body[0]
	if bytes.IndexByte(body, 0) < 0 && utf8.Valid(body) {
		if nl := bytes.Count(body, []byte{'\n'}); nl > 0 {
			c.line += nl
			c.lineStart = base + int64(bytes.LastIndexByte(body, '\n')) + 1
		}
		c.nc = copy(c.carry[:], rest[j:])
		c.off += int64(len(b))
		return len(b), nil
	}
	// Find the fault, counting lines up to it.
	for k := 0; k < len(body); {
		x := body[k]
		at := base + int64(k)
		switch {
		case x == 0:
			return int(max(c.lineStart-c.off, 0)), &FileError{File: c.file, Line: c.line, Msg: fmt.Sprintf(
				"binary content (a NUL byte at column %d): want a UTF-8 text CSV; export the data as CSV UTF-8 (a UTF-16 export shows NUL bytes too)",
				at-c.lineStart+1)}
		case x == '\n':
			c.line++
			c.lineStart = at + 1
			k++
		case x < utf8.RuneSelf:
			k++
		default:
			r, size := utf8.DecodeRune(body[k:])
			if r == utf8.RuneError && size == 1 {
				return int(max(c.lineStart-c.off, 0)), c.notUTF8(x, at)
			}
			k += size
		}
	}
	// Unreachable: utf8.Valid failing means a byte above decodes as an error.
	return 0, c.notUTF8(body[0], base)
}

// notUTF8 is the error for the byte x at offset at, which is not UTF-8.
func (c *checker) notUTF8(x byte, at int64) *FileError {
	if at == 0 && (x == 0xFF || x == 0xFE) {
		return &FileError{File: c.file, Line: 1, Msg: "encoded as UTF-16 (it starts with a UTF-16 byte order mark): want UTF-8; save the file as CSV UTF-8"}
	}
	return &FileError{File: c.file, Line: c.line, Msg: fmt.Sprintf(
		"not UTF-8 (byte 0x%02x at column %d): save the file as CSV UTF-8", x, max(at-c.lineStart+1, 1))}
}

// spreadsheetDamage returns why a record's id cell looks like a number a spreadsheet rewrote, ""
// when none does. It names the column as the header writes it.
func (r *Reader) spreadsheetDamage(fields []string) string {
	for _, i := range [...]int{r.cols.user, r.cols.member, r.cols.org} {
		if i < 0 || i >= len(fields) || i >= len(r.header) {
			continue
		}
		if v := strings.TrimSpace(fields[i]); spreadsheetNumber(v) {
			return fmt.Sprintf("%s %q: this looks like a number a spreadsheet rewrote (scientific notation): export the column as text", r.header[i], v)
		}
	}
	return ""
}

// spreadsheetNumber reports whether an id cell holds what a spreadsheet writes for a long number
// it stored as a float: scientific notation with an explicit exponent sign ("3.30154E+17",
// "1,23457E+17" with a decimal comma, "6.96290129064883E+16"), or a long run of digits with a
// decimal point and only zeros after it ("69629012906488300.0").
//
// ZITADEL v2 lets callers choose user ids, so a number-like id is not wrong in itself; only these
// two shapes are refused, because no id a person or a system picks has them while every
// spreadsheet and dataframe export of a long integer does: a mantissa of one non-zero digit and at
// most 14 decimals (a float's 15 significant digits) followed by E+ or e+ and an exponent of at
// least 11 (spreadsheets keep shorter numbers as written); or at least 12 digits, a point or comma
// and nothing but zeros. Stytch ids are safe too: they start with member- or organization-, and an
// organization slug cannot hold '+'. Near misses stay ids: "3E17" (no sign), "12345.0" (short),
// "69629012906488300.5", "1.2E+5" (small exponent).
func spreadsheetNumber(s string) bool {
	if len(s) < 5 || s[0] < '1' || s[0] > '9' {
		return false
	}
	if e := strings.IndexAny(s, "Ee"); e > 0 {
		mant, exp := s[:e], s[e+1:]
		if len(mant) > 1 {
			if (mant[1] != '.' && mant[1] != ',') || len(mant) < 3 || len(mant) > 16 || !allIn(mant[2:], '0', '9') {
				return false
			}
		}
		if len(exp) < 2 || exp[0] != '+' || len(exp) > 3 || !allIn(exp[1:], '0', '9') {
			return false
		}
		n, _ := strconv.Atoi(exp[1:]) // digits only, checked above
		return n >= 11
	}
	p := strings.IndexAny(s, ".,")
	return p >= 12 && allIn(s[:p], '0', '9') && len(s) > p+1 && allIn(s[p+1:], '0', '0')
}

// allIn reports whether every byte of s is in lo..hi.
func allIn(s string, lo, hi byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < lo || s[i] > hi {
			return false
		}
	}
	return true
}
