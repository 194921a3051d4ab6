package oneshot

import "testing"

func TestDemoCredentialsAreMadeOnceThenReused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s1, t1, err := DemoCredentials(dir)
	if err != nil || len(s1) < 32 || len(t1) < 32 || s1 == t1 {
		t.Fatalf("DemoCredentials = %q, %q, %v; want two different random values", s1, t1, err)
	}
	s2, t2, err := DemoCredentials(dir)
	if err != nil || s2 != s1 || t2 != t1 {
		t.Errorf("DemoCredentials again = %q, %q, %v; want the first ones back (a restarted fake keeps the workers' credentials)", s2, t2, err)
	}
}
