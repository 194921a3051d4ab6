package httpapi

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, wantErr string
	}{
		{"https", "https://acme.zitadel.cloud/", ""},
		{"http loopback", "http://127.0.0.1:8080", ""},
		{"http localhost", "http://localhost:8080", ""},
		{"http ipv6 loopback", "http://[::1]:8080", ""},
		{"http remote", "http://acme.example.com", "plain http"},
		{"no host", "acme.example.com", "no host"},
		{"ftp", "ftp://acme.example.com", "scheme must be https"},
		{"query", "https://acme.example.com/?token=x", "query"},
		{"user info", "https://user:hunter2@acme.example.com", "user info"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseBaseURL(tt.in)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("ParseBaseURL(%q) = %v, want error containing %q", tt.in, err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("ParseBaseURL error %q leaks the password", err)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 17, 38, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"7", 7 * time.Second}, {"0", 0}, {"-3", 0}, {"soon", 0},
		{now.Add(5 * time.Second).Format(http.TimeFormat), 5 * time.Second},
		{now.Add(-5 * time.Second).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		if got := ParseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
