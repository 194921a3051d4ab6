// This file tests what the dashboard's Access allows before it serves.

package dash

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestAccessValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		a        Access
		wantAddr bool  // an *AddrError (a bad command line)
		is       error // errors.Is the error this
		wantErr  bool  // some other error
	}{
		{name: "loopback without auth", a: Access{Addr: "127.0.0.1:8080"}},
		{name: "every interface with auth", a: Access{Addr: ":8080", User: "ops", Password: "pw"}},
		{name: "every interface without auth", a: Access{Addr: ":8080"}, wantAddr: true, is: ErrNotLoopback},
		{name: "no port", a: Access{Addr: "127.0.0.1"}, wantAddr: true},
		{name: "user without password", a: Access{Addr: "127.0.0.1:8080", User: "ops"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.a.Validate()
			var ae *AddrError
			switch {
			case tt.wantAddr != errors.As(err, &ae):
				t.Errorf("Validate() = %v, want an *AddrError: %v", err, tt.wantAddr)
			case tt.is != nil && !errors.Is(err, tt.is):
				t.Errorf("Validate() = %v, want %v", err, tt.is)
			case !tt.wantAddr && tt.wantErr != (err != nil):
				t.Errorf("Validate() = %v, want an error: %v", err, tt.wantErr)
			}
		})
	}
}

func TestAccessGenerated(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "pw")
	a := Access{Addr: ":8080", GenerateFile: file}
	if err := a.Validate(); err != nil || !a.Generated || a.User != GeneratedUser || a.Password == "" {
		t.Fatalf("Validate() = %v, %+v, want a generated password for %s", err, a, GeneratedUser)
	}
	var b bytes.Buffer
	a.Announce(&b)
	if !strings.Contains(b.String(), "password "+a.Password+" (generated, kept in "+file) {
		t.Errorf("Announce() = %q, want the password and its file", b.String())
	}
}
