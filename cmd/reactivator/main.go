// Command reactivator restores deactivated Stytch B2B members and ZITADEL users in bulk.
//
// main is thin: it wires the process (signals, standard streams, environment) to run, which
// builds every command and returns the exit code.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ownsProcess = true
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
