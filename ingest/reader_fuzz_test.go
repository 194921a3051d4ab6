// This file fuzzes Reader: no panic, no row dropped or invented, every refusal justified.

package ingest

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"reactivator/jobs"
)

// fuzzOptions turns a fuzzed byte into Options: every provider choice with every delimiter choice.
func fuzzOptions(b uint8) Options {
	providers := []jobs.Provider{"", jobs.Stytch, jobs.Zitadel}
	delims := []rune{0, ',', ';', '\t'}
	return Options{Provider: providers[int(b)%3], Delimiter: delims[int(b)/3%4]}
}

func FuzzReader(f *testing.F) {
	const (
		org = "organization-test-07d6d0c4-1b4c-4f8a-9f0b-3b6c1c5e2a11"
		mem = "member-test-5a1f9e3c-2b7d-4c8e-a1f0-6d2e3b4c5a62"
		uid = "284021839634282001"
	)
	seeds := []string{
		"organization_id,member_id\n" + org + "," + mem + "\n",
		"org_id,member\n" + org + "," + mem + "\n",
		"  Organization_ID ,\tMEMBER_id  \n" + org + "," + mem + "\n",
		"user_id\n" + uid + "\n1\n",
		"ID\n" + uid + "\n",
		"org_id,user_id\n1," + uid + "\n," + uid + "\n",
		"user_id,organization_id\n" + uid + ",1\n",
		"\uFEFFuser_id\n" + uid + "\n",
		"\uFEFF\"user_id\",\"email\"\r\n" + uid + ",a@example.com\r\n",
		"organization_id,member_id\r\n" + org + "," + mem + "\r\n\r\n" + org + "," + mem + "\r\n",
		"user_id\r\n1\r\n2",
		"organization_id;member_id;name\n" + org + ";" + mem + ";Doe, Jane\n",
		"user_id\torg_id\tnote\n1\t\tx\n2\t3\t\n",
		"user_id;name, first\n1;Jane\n",
		"user_id,note,name\n\"1\",\"a, b\",\"say \"\"hi\"\"\"\n2,\"two\nlines\",x\n3,c,d\n",
		"user_id, note\n1, \"a, b\"\n",
		"\n\r\n  \nuser_id,note\n\n1,a\n   \n,\n , \n\t\n2,b\n\n\n",
		"email,member_id,name,organization_id,team\na@example.com," + mem + ",Ann," + org + ",red\n",
		"user_id,note\n1,a,b\n2\n3,c\n",
		"user_id,note\n1,5\" tall\n2,b\n",
		"user_id,note\n1,\"a\"b\n2,b\n",
		"user_id,note\n1,a\n2,\"b\n",
		"user_id,note\n\"1,a\n2\",b\n3,c\n",
		"user_id,note\n1,a\n2,\"b\n3,c\n4,d\n",
		"organization_id,member_id\n" + org + ",\n," + mem + "\n" + org + ",user-123\n",
		"organization_id,member_id,user_id\n" + org + "," + mem + ",42\n",
		"line,provider,organization_id,member_id,user_id,outcome\n7,zitadel,1,,2,not_found\n",
		"user_id;name\n1;Zoë Ångström 日本語 🙂\n",
		"",
		"\uFEFF",
		"\n  \r\n,,\n",
		"organization_id,member_id\n",
		"email,name\na,b\n",
		org + "," + mem + "\n",
		"member_id,email\nx,y\n",
		"organization_id,member_id,member\nx,y,z\n",
		"id,user_id\n1,1\n",
		"organization_id,member_id,user_id\nx,y,z\n",
		"user_id\x00\n1\n",
		"user_id\n1\n2\n12\x0034\n3\n",
		"user_id,pr\xe9nom\n1,a\n",
		"user_id,name\n1,Zo\xc3",
		"user_id\n1\n\xed\xa0\x80\n",
		"\xff\xfeu\x00s\x00e\x00r\x00",
		"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
		"user_\"id\n1\n",
		"user_id;org_id\n3.30154E+17;1,23457E+17\n69629012906488300.0;\n3E17;\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s), uint8(0))
	}
	for _, opt := range []uint8{1, 2, 3, 4, 5, 6, 8, 9, 10, 11} {
		f.Add([]byte("organization_id;member_id;user_id\n"+org+";"+mem+";"+uid+"\n"), opt)
	}
	for _, name := range []string{"stytch.csv", "zitadel.csv"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint8(0))
	}

	f.Fuzz(func(t *testing.T, data []byte, opt uint8) {
		o := fuzzOptions(opt)
		rd, err := NewReader("fuzz.csv", bytes.NewReader(data), o)
		if err != nil {
			checkRefusal(t, data, err, 0)
			sum, cerr := Check("fuzz.csv", bytes.NewReader(data), o)
			if cerr == nil || cerr.Error() != err.Error() {
				t.Fatalf("Check(%q) = %+v, %v; want NewReader's error %v", data, sum, cerr, err)
			}
			return
		}
		if p := rd.Provider(); p != jobs.Stytch && p != jobs.Zitadel || (o.Provider != "" && p != o.Provider) {
			t.Fatalf("Provider() = %q with Options %+v", p, o)
		}
		var lines []int
		invalid := 0
		maxLine := bytes.Count(data, []byte{'\n'}) + 1
		for {
			rec, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				checkRefusal(t, data, err, len(lines))
				for _, l := range lines {
					if fe := (*FileError)(nil); errors.As(err, &fe) && l >= fe.Line {
						t.Fatalf("record at line %d was yielded before %v", l, err)
					}
				}
				return
			}
			if rec.Row.Line < 2 || rec.Row.Line > maxLine || (len(lines) > 0 && rec.Row.Line <= lines[len(lines)-1]) {
				t.Fatalf("record at line %d after lines %v of %d", rec.Row.Line, lines, maxLine)
			}
			lines = append(lines, rec.Row.Line)
			if rec.Row.Provider != rd.Provider() || len(rec.Extra) != len(rd.ExtraColumns()) {
				t.Fatalf("record %+v: provider or extra values do not match the reader's %q, %q", rec, rd.Provider(), rd.ExtraColumns())
			}
			if rec.Invalid != "" {
				invalid++
			} else if err := rec.Row.Validate(); err != nil {
				t.Fatalf("valid record %+v fails Validate: %v", rec, err)
			} else if spreadsheetNumber(rec.Row.UserID) || spreadsheetNumber(rec.Row.MemberID) || spreadsheetNumber(rec.Row.OrgID) {
				t.Fatalf("valid record %+v holds a number a spreadsheet rewrote", rec)
			}
		}
		if bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data) {
			t.Fatalf("file %q with NUL bytes or invalid UTF-8 read to the end", data)
		}
		sum, err := Check("fuzz.csv", bytes.NewReader(data), o)
		if want := (Summary{Provider: rd.Provider(), Rows: len(lines), Invalid: invalid}); err != nil || sum != want {
			t.Fatalf("Check(%q) = %+v, %v; want %+v as Next counted", data, sum, err, want)
		}
		// An independent count: encoding/csv alone, with the same delimiter and settings, yields
		// the same non-blank records after the header, at the same lines.
		want := csvLines(data, rd.comma)
		if !slices.Equal(lines, want) {
			t.Fatalf("records of %q at lines %v, encoding/csv finds %v", data, lines, want)
		}
	})
}

// checkRefusal checks an error of NewReader or Next: a *FileError with a file, a line and a
// message, and a binary or UTF-8 complaint only when the file has a NUL byte or invalid UTF-8.
func checkRefusal(t *testing.T, data []byte, err error, yielded int) {
	t.Helper()
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("reading %q: error %v after %d records, want a *FileError", data, err, yielded)
	}
	if fe.File != "fuzz.csv" || fe.Line < 1 || fe.Msg == "" || fe.Line > bytes.Count(data, []byte{'\n'})+1 {
		t.Fatalf("reading %q: FileError %+v lacks a file, a line in the file or a message", data, fe)
	}
	bad := bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data)
	if blames := strings.Contains(fe.Msg, "binary content") || strings.Contains(fe.Msg, "UTF-8 (") || strings.Contains(fe.Msg, "UTF-16"); blames && !bad {
		t.Fatalf("reading %q: %v, but the file is UTF-8 text", data, err)
	}
}

// csvLines returns the start lines of the non-blank records after the header, as encoding/csv
// alone reads data (a parse error counts as a record).
func csvLines(data []byte, comma rune) []int {
	cr := newCSV(bytes.NewReader(bytes.TrimPrefix(data, []byte("\uFEFF"))), comma)
	var lines []int
	header := false
	for {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return lines
		}
		var pe *csv.ParseError
		line := 0
		switch {
		case errors.As(err, &pe):
			line = pe.StartLine
		case err != nil:
			return append(lines, -1)
		case blank(fields):
			continue
		default:
			line, _ = cr.FieldPos(0)
		}
		if !header {
			header = true
			continue
		}
		lines = append(lines, line)
	}
}
