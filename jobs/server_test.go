package jobs

import "testing"

func TestVersionLess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    string
		want bool
	}{
		{"6.0.16", true}, {"6.2", false}, {"6.2.0", false}, {"7.0.15", false}, {"5.9", true}, {"10.0", false},
	}
	for _, tt := range tests {
		if got := versionLess(tt.v, MinRedisVersion); got != tt.want {
			t.Errorf("versionLess(%q, %q) = %v, want %v", tt.v, MinRedisVersion, got, tt.want)
		}
	}
}

func TestCheckServerAcceptsTheTestRedis(t *testing.T) {
	t.Parallel()
	s, ctx := setupStore(t)
	if err := s.CheckServer(ctx); err != nil {
		t.Fatalf("CheckServer(private redis-server) = %v, want nil", err)
	}
}
