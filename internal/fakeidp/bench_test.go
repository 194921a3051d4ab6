// This file measures the fakes' throughput over real HTTP and their handlers' cost per request.

package fakeidp

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

const benchAccounts = 10000

func benchClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 256
	return &http.Client{Transport: t}
}

// benchHTTP runs reactivate calls in parallel against a served fake and reports requests/s.
func benchHTTP(b *testing.B, h http.Handler, newReq func(base string, i int) *http.Request) {
	base, stop := Serve(h)
	defer stop()
	client := benchClient()
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(8)
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Do(newReq(base, int(n.Add(1))%benchAccounts))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

func BenchmarkStytchReactivate(b *testing.B) {
	s := NewStytch(tProject, tSecret)
	for i := range benchAccounts {
		s.AddMember(tOrg, fmt.Sprintf("member-test-%d", i), StytchDeleted, true)
	}
	auth := basic(tProject, tSecret)
	benchHTTP(b, s, func(base string, i int) *http.Request {
		req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/v1/b2b/organizations/%s/members/member-test-%d/reactivate", base, tOrg, i), http.NoBody)
		req.Header.Set("Authorization", auth)
		return req
	})
}

func BenchmarkZitadelReactivate(b *testing.B) {
	z := NewZitadel("127.0.0.1")
	z.AddToken(tPAT, tZOrg)
	for i := range benchAccounts {
		z.AddUser(fmt.Sprint(400000000000000000+i), tZOrg, ZitadelInactive)
	}
	z.SetRateLimit(RateLimit{PerSecond: 1 << 30})
	benchHTTP(b, z, func(base string, i int) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/v2/users/%d/reactivate", base, 400000000000000000+i), http.NoBody)
		req.Header.Set("Authorization", "Bearer "+tPAT)
		return req
	})
}

// BenchmarkHandlers measures what one reactivate answer costs the fakes themselves, without
// the network.
func BenchmarkHandlers(b *testing.B) {
	s := NewStytch(tProject, tSecret)
	s.AddMember(tOrg, tMember, StytchActive, true)
	sreq := httptest.NewRequest(http.MethodPut, "/v1/b2b/organizations/"+tOrg+"/members/"+tMember+"/reactivate", http.NoBody)
	sreq.Header.Set("Authorization", basic(tProject, tSecret))
	z := NewZitadel("")
	z.AddToken(tPAT, tZOrg)
	z.AddUser(tUser, tZOrg, ZitadelActive)
	zreq := httptest.NewRequest(http.MethodPost, "/management/v1/users/"+tUser+"/_reactivate", http.NoBody)
	zreq.Header.Set("Authorization", "Bearer "+tPAT)
	for _, bb := range []struct {
		name string
		h    http.Handler
		req  *http.Request
		want int
	}{{"stytch", s, sreq, 400}, {"zitadel_v1", z, zreq, 400}} {
		b.Run(bb.name, func(b *testing.B) {
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				bb.h.ServeHTTP(w, bb.req)
			}
			if w.status != bb.want {
				b.Fatalf("status %d, want %d", w.status, bb.want)
			}
		})
	}
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(s int)           { w.status = s }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
