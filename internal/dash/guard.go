// This file holds the dashboard's request guards: basic auth, the cross-origin check of
// state-changing requests, and the read-only fence around the embedded asynq monitor.

package dash

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// basicAuth admits a request only with the configured user and password. Both are compared in
// constant time over their SHA-256 digests, so neither the content nor the length of a guess
// leaks through timing. Credentials are never logged.
func basicAuth(user, password string, log *slog.Logger, next http.Handler) http.Handler {
	wantUser := sha256.Sum256([]byte(user))
	wantPass := sha256.Sum256([]byte(password))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		gotUser := sha256.Sum256([]byte(u))
		gotPass := sha256.Sum256([]byte(p))
		// Both comparisons always run: no early exit on a wrong user name.
		userOK := subtle.ConstantTimeCompare(gotUser[:], wantUser[:])
		passOK := subtle.ConstantTimeCompare(gotPass[:], wantPass[:])
		if !ok || userOK&passOK != 1 {
			if ok {
				log.Warn("dashboard: refused basic-auth credentials", "remote", r.RemoteAddr, "path", r.URL.Path)
			}
			w.Header().Set("WWW-Authenticate", `Basic realm="reactivator", charset="UTF-8"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// crossOrigin refuses state-changing requests (anything but GET, HEAD and OPTIONS) that a
// browser marks as coming from another origin, by Sec-Fetch-Site, by an Origin header that does
// not match the Host, or (lacking both) by a Referer of another host. Requests with none of
// them come from no browser (curl, scripts) and cannot be forged by a web page: the resume button, and the monitor's write API when it is enabled,
// cannot be triggered by another site the operator has open.
func crossOrigin(log *slog.Logger, next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.Warn("dashboard: refused a cross-origin request", "method", r.Method, "path", r.URL.Path,
			"origin", r.Header.Get("Origin"), "remote", r.RemoteAddr)
		http.Error(w, "cross-origin request refused: use the dashboard's own pages", http.StatusForbidden)
	}))
	guarded := cop.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Browsers too old to send Sec-Fetch-Site or Origin still send a Referer: a state-changing
		// request whose Referer names another host is refused as well.
		if !safeMethod(r.Method) && r.Header.Get("Sec-Fetch-Site") == "" && r.Header.Get("Origin") == "" {
			if ref := r.Header.Get("Referer"); ref != "" {
				if u, err := url.Parse(ref); err != nil || u.Host != r.Host {
					log.Warn("dashboard: refused a cross-origin request", "method", r.Method, "path", r.URL.Path,
						"referer_host", hostOf(u), "remote", r.RemoteAddr)
					http.Error(w, "cross-origin request refused: use the dashboard's own pages", http.StatusForbidden)
					return
				}
			}
		}
		guarded.ServeHTTP(w, r)
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func hostOf(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.Host
}

// readOnly refuses every request but GET and HEAD. It fences the embedded monitor in addition to
// asynqmon's own read-only mode, so a route asynqmon forgets to guard still cannot write.
func readOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "the queue monitor is read-only: start the dashboard with --monitor-write to change tasks or queues",
				http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// securityHeaders sets headers every page of ours gets: no framing, no sniffing, no referrer
// leaking run ids elsewhere, and a policy that allows only our own assets.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, monitorPath+"/") && r.URL.Path != monitorPath {
			h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; form-action 'self'")
		}
		next.ServeHTTP(w, r)
	})
}
