// This file tests oneshot.go: the checks Files makes before it calls anything.

package oneshot

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"reactivator/internal/exitcode"
	"reactivator/internal/redisconn"
)

func TestFilesRefusesAReportFileForSeveralInputsAsAUsageError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	report := filepath.Join(dir, "report.csv")
	if err := os.WriteFile(report, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r := FilesRequest{Session: Session{Env: func(string) string { return "" }, Out: io.Discard, Err: io.Discard,
		Embed: redisconn.Embed{InProcess: true}}, Files: []string{"a.csv", "b.csv"}, Report: report}
	err := Files(context.Background(), r)
	var ue *exitcode.UsageError
	if !errors.As(err, &ue) {
		t.Errorf("Files(two files, --report %s, a file) = %v, want an *exitcode.UsageError", report, err)
	}
}
