// This file serves a fake over real HTTP on loopback.

package fakeidp

import (
	"net/http"
	"net/http/httptest"
)

// Serve serves h on a fresh loopback port over plain HTTP/1.1 and returns its base URL (no
// trailing slash) and a function that closes the server, cutting stalled calls short.
func Serve(h http.Handler) (baseURL string, close func()) {
	srv := httptest.NewServer(h)
	return srv.URL, func() {
		srv.CloseClientConnections()
		srv.Close()
	}
}
