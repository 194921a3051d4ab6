// Package httpserve serves an http.Handler on an address in the background and shuts it down
// gracefully: the one way the metrics endpoint, the dashboard and the fake providers are served.
package httpserve

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// ShutdownTimeout is how long Shutdown lets requests in flight finish.
const ShutdownTimeout = 5 * time.Second

// Server is a handler being served on a listener.
type Server struct {
	hs   *http.Server
	ln   net.Listener
	done chan struct{}
	err  error
}

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves h until Shutdown. The error
// is the listener's.
func Start(addr string, h http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{hs: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, ln: ln, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		if err := s.hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.err = err
		}
	}()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// URL is "http://" and the address, with a trailing slash.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + "/" }

// Done is closed when the server stopped serving: after Shutdown, or when serving failed.
func (s *Server) Done() <-chan struct{} { return s.done }

// Err is why the server stopped serving on its own; nil while it serves and after Shutdown.
func (s *Server) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Shutdown stops accepting connections, lets requests in flight finish for ShutdownTimeout, and
// waits until the server has stopped. The error says requests were cut short.
func (s *Server) Shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	err := s.hs.Shutdown(ctx)
	<-s.done
	return err
}
