// This file settles who may reach the dashboard and where it listens, before anything is
// served: the basic-auth credentials (given, or made up and kept in a file) and the address
// they allow.

package dash

import (
	"errors"
	"fmt"
	"io"

	"reactivator/internal/config"
	"reactivator/internal/exitcode"
)

// Access is where the dashboard listens and who may reach it, as the dash command's flags and
// environment give them; Validate settles it.
type Access struct {
	// Addr is the listen address (host:port): other than loopback only with basic auth.
	Addr string
	// User and Password are the basic-auth credentials: both or neither. Validate sets them
	// when it makes the password up.
	User, Password string
	// PasswordFile is the file Load reads Password from (--password-file).
	PasswordFile string
	// GenerateFile, when set and Password is not, is the file a made-up password is kept in
	// (GeneratedPassword); the user then defaults to GeneratedUser.
	GenerateFile string
	// Generated is set by Validate when the password is the one kept in GenerateFile.
	Generated bool
}

// AddrError is an Access.Addr the dashboard may not listen on: unreadable, or reachable from
// other machines without basic auth (it wraps ErrNotLoopback then). It is a bad command line.
type AddrError struct{ Err error }

func (e *AddrError) Error() string {
	if errors.Is(e.Err, ErrNotLoopback) {
		return fmt.Sprintf("--addr: %v: set REACTIVATOR_DASH_USER and REACTIVATOR_DASH_PASSWORD (or --password-file), or listen on 127.0.0.1", e.Err)
	}
	return fmt.Sprintf("--addr: %v", e.Err)
}

func (e *AddrError) Unwrap() error { return e.Err }

// Load reads the basic-auth credentials the flags leave unset from env: User, else
// REACTIVATOR_DASH_USER; Password from PasswordFile, else REACTIVATOR_DASH_PASSWORD_FILE's file,
// else REACTIVATOR_DASH_PASSWORD. Then it settles them with the address (Validate): an address
// it refuses is a bad command line (an *exitcode.UsageError wrapping the *AddrError).
func (a *Access) Load(env config.Env) (err error) {
	a.User = env.First(a.User, "REACTIVATOR_DASH_USER")
	if a.Password, err = env.Secret(a.PasswordFile, "REACTIVATOR_DASH_PASSWORD_FILE", "REACTIVATOR_DASH_PASSWORD"); err != nil {
		return err
	}
	var ae *AddrError
	if err := a.Validate(); errors.As(err, &ae) {
		return exitcode.AsUsage(err)
	} else if err != nil {
		return err
	}
	return nil
}

// Validate settles the credentials (Credentials) and checks that Addr may be bound with them
// (CheckBind); an address it refuses is an *AddrError.
func (a *Access) Validate() error {
	var err error
	a.User, a.Password, a.Generated, err = Credentials(a.User, a.Password, a.GenerateFile)
	if err != nil {
		return err
	}
	if err := CheckBind(a.Addr, a.User != ""); err != nil {
		return &AddrError{Err: err}
	}
	return nil
}

// Announce tells w the made-up credentials, when Validate made them up: printed on purpose, as a
// password nobody chose is of no use unless the operator can read it.
func (a *Access) Announce(w io.Writer) {
	if a.Generated {
		fmt.Fprintf(w, "dashboard basic auth: user %s, password %s (generated, kept in %s; set REACTIVATOR_DASH_PASSWORD to choose one)\n",
			a.User, a.Password, a.GenerateFile)
	}
}
