package httpserve

import (
	"io"
	"net/http"
	"testing"
)

func TestStartServeShutdown(t *testing.T) {
	t.Parallel()
	s, err := Start("127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(s.URL())
	if err != nil {
		t.Fatalf("GET %s = %v", s.URL(), err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(b) != "ok" {
		t.Errorf("GET %s = %q, want ok", s.URL(), b)
	}
	if err := s.Shutdown(); err != nil {
		t.Errorf("Shutdown = %v", err)
	}
	select {
	case <-s.Done():
	default:
		t.Error("Done not closed after Shutdown")
	}
	if err := s.Err(); err != nil {
		t.Errorf("Err after Shutdown = %v, want nil", err)
	}
	if _, err := http.Get(s.URL()); err == nil {
		t.Error("GET after Shutdown succeeded, want a refused connection")
	}
	if _, err := Start(s.Addr().String()+"x", nil); err == nil {
		t.Error("Start(bad address) = nil error")
	}
}
