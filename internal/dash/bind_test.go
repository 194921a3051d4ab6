package dash

import (
	"errors"
	"testing"
)

func TestCheckBind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		addr    string
		hasAuth bool
		wantErr error // nil: allowed
		anyErr  bool  // an error other than ErrNotLoopback
	}{
		{name: "ipv4 loopback", addr: "127.0.0.1:8080"},
		{name: "other 127/8 address", addr: "127.0.0.2:8080"},
		{name: "localhost", addr: "localhost:8080"},
		{name: "localhost any case", addr: "LocalHost:8080"},
		{name: "ipv6 loopback", addr: "[::1]:8080"},
		{name: "loopback port 0", addr: "127.0.0.1:0"},
		{name: "every interface", addr: ":8080", wantErr: ErrNotLoopback},
		{name: "unspecified ipv4", addr: "0.0.0.0:8080", wantErr: ErrNotLoopback},
		{name: "unspecified ipv6", addr: "[::]:8080", wantErr: ErrNotLoopback},
		{name: "LAN address", addr: "192.168.1.20:8080", wantErr: ErrNotLoopback},
		{name: "public address", addr: "203.0.113.7:8080", wantErr: ErrNotLoopback},
		{name: "host name", addr: "dash.internal:8080", wantErr: ErrNotLoopback},
		{name: "localhost lookalike", addr: "localhost.evil.example:8080", wantErr: ErrNotLoopback},
		{name: "link-local ipv6 with zone", addr: "[fe80::1%eth0]:8080", wantErr: ErrNotLoopback},
		{name: "every interface with auth", addr: ":8080", hasAuth: true},
		{name: "unspecified with auth", addr: "0.0.0.0:8080", hasAuth: true},
		{name: "LAN address with auth", addr: "192.168.1.20:8080", hasAuth: true},
		{name: "no port", addr: "127.0.0.1", anyErr: true},
		{name: "no port even with auth", addr: "0.0.0.0", hasAuth: true, anyErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := CheckBind(tt.addr, tt.hasAuth)
			switch {
			case tt.anyErr:
				if err == nil || errors.Is(err, ErrNotLoopback) {
					t.Errorf("CheckBind(%q, %v) = %v, want an address error", tt.addr, tt.hasAuth, err)
				}
			case !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil):
				t.Errorf("CheckBind(%q, %v) = %v, want %v", tt.addr, tt.hasAuth, err, tt.wantErr)
			}
		})
	}
}
