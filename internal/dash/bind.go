// This file decides which listen addresses the dashboard may bind without basic auth.

package dash

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

// ErrNotLoopback is returned by CheckBind for an address other machines could reach when no
// basic-auth credentials are configured.
var ErrNotLoopback = errors.New("not a loopback address")

// CheckBind returns an error unless addr (host:port, as net.Listen takes it) is a loopback
// address or hasAuth is true. An empty host (":8080"), an unspecified address (0.0.0.0, [::]),
// a LAN address or any host name but "localhost" count as reachable from elsewhere: the
// dashboard shows account ids and can resume a paused provider, so it needs credentials there.
func CheckBind(addr string, hasAuth bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: want host:port, e.g. 127.0.0.1:8080: %w", addr, err)
	}
	if hasAuth || isLoopback(host) {
		return nil
	}
	shown := host
	if shown == "" {
		shown = "every interface"
	}
	return fmt.Errorf("listen address %q (%s) is %w: other machines could reach the dashboard, so it needs basic auth",
		addr, shown, ErrNotLoopback)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	// net.SplitHostPort strips the brackets of [::1]; a zone (fe80::1%eth0) is never loopback.
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
