package jobs

import (
	"errors"
	"strings"
	"testing"
)

func TestResolveRunByPrefix(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	for _, id := range []string{"stytch-3f2a9c1b7d4e", "stytch-3f2b00000000", "zitadel-81be07aaaaaa", "odd*[id]"} {
		newRun(t, s, ctx, id)
	}
	tests := []struct {
		in, want string
		notFound bool
		ambig    []string
	}{
		{in: "stytch-3f2a9c1b7d4e", want: "stytch-3f2a9c1b7d4e"},
		{in: "stytch-3f2a", want: "stytch-3f2a9c1b7d4e"},
		{in: "z", want: "zitadel-81be07aaaaaa"},
		{in: "odd*", want: "odd*[id]"},
		{in: "odd?", notFound: true},
		{in: "stytch-3f2", ambig: []string{"stytch-3f2a9c1b7d4e", "stytch-3f2b00000000"}},
		{in: "nothing", notFound: true},
		{in: "", notFound: true},
	}
	for _, tt := range tests {
		got, err := s.ResolveRun(ctx, tt.in)
		var amb *AmbiguousRunError
		switch {
		case tt.notFound:
			if !errors.Is(err, ErrRunNotFound) {
				t.Errorf("ResolveRun(%q) = %q, %v; want ErrRunNotFound", tt.in, got, err)
			}
		case tt.ambig != nil:
			if !errors.As(err, &amb) || strings.Join(amb.Candidates, ",") != strings.Join(tt.ambig, ",") ||
				!strings.Contains(err.Error(), "stytch-3f2b00000000") {
				t.Errorf("ResolveRun(%q) = %q, %v; want ambiguous among %v", tt.in, got, err, tt.ambig)
			}
		case err != nil || got != tt.want:
			t.Errorf("ResolveRun(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	ids, more, err := s.RunIDs(ctx, "", 2)
	if err != nil || len(ids) != 2 || !more {
		t.Errorf("RunIDs(\"\", 2) = %v, %v, %v; want 2 ids and more", ids, more, err)
	}
}
