// This file tests the URL forms, the CA file and Redact.

package redisconn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"reactivator/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// TestParseForms checks what each URL form becomes: addresses, credentials (whose), database, TLS.
func TestParseForms(t *testing.T) {
	t.Parallel()
	type want struct {
		kind                       string // simple, failover, cluster
		addrs                      []string
		user, password             string
		sentinelUser, sentinelPass string
		master                     string
		db                         int
		tls                        bool
		network                    string
	}
	cases := []struct {
		url  string
		want want
	}{
		{"redis://localhost:6379/2", want{kind: "simple", addrs: []string{"localhost:6379"}, db: 2, network: "tcp"}},
		{"redis://:pw@h:1/0", want{kind: "simple", addrs: []string{"h:1"}, password: "pw", network: "tcp"}},
		{"rediss://app:p%40ss@h:6380/3?dial_timeout=2", want{kind: "simple", addrs: []string{"h:6380"}, user: "app", password: "p@ss", db: 3, tls: true, network: "tcp"}},
		{"unix:///run/redis.sock?db=4", want{kind: "simple", addrs: []string{"/run/redis.sock"}, db: 4, network: "unix"}},
		{"unix://:pw@/run/redis.sock", want{kind: "simple", addrs: []string{"/run/redis.sock"}, password: "pw", network: "unix"}},
		{"redis-socket:///tmp/r.sock", want{kind: "simple", addrs: []string{"/tmp/r.sock"}, network: "unix"}},
		{"redis-sentinel://:mpw@s1:26379,s2:26380?master=mymaster", want{kind: "failover", addrs: []string{"s1:26379", "s2:26380"}, password: "mpw", master: "mymaster"}},
		{"redis-sentinel://s1:26379?master=m&sentinel_password=spw&db=5", want{kind: "failover", addrs: []string{"s1:26379"}, sentinelPass: "spw", master: "m", db: 5}},
		{"redis-sentinel://app:mpw@s1:1,s2:2,s3:3/6?master=m&sentinel_password=s%26pw", want{kind: "failover", addrs: []string{"s1:1", "s2:2", "s3:3"}, user: "app", password: "mpw", sentinelPass: "s&pw", master: "m", db: 6}},
		{"rediss-sentinel://:mpw@s1:1?master=m", want{kind: "failover", addrs: []string{"s1:1"}, password: "mpw", master: "m", tls: true}},
		{"redis-cluster://n1:7000,n2:7001,n3:7002", want{kind: "cluster", addrs: []string{"n1:7000", "n2:7001", "n3:7002"}}},
		{"redis-cluster://app:cpw@n1:7000,n2:7001?read_timeout=3s", want{kind: "cluster", addrs: []string{"n1:7000", "n2:7001"}, user: "app", password: "cpw"}},
		{"rediss-cluster://:cpw@n1:7000", want{kind: "cluster", addrs: []string{"n1:7000"}, password: "cpw", tls: true}},
	}
	for _, c := range cases {
		o, err := parse(c.url)
		if err != nil {
			t.Errorf("parse(%s) = %v", Redact(c.url), err)
			continue
		}
		var g want
		switch {
		case o.simple != nil:
			g = want{kind: "simple", addrs: []string{o.simple.Addr}, user: o.simple.Username, password: o.simple.Password, db: o.simple.DB, network: o.simple.Network}
		case o.failover != nil:
			f := o.failover
			g = want{kind: "failover", addrs: f.SentinelAddrs, user: f.Username, password: f.Password, sentinelUser: f.SentinelUsername, sentinelPass: f.SentinelPassword, master: f.MasterName, db: f.DB}
		case o.cluster != nil:
			g = want{kind: "cluster", addrs: o.cluster.Addrs, user: o.cluster.Username, password: o.cluster.Password}
		}
		g.tls = o.tls() != nil
		if fmt.Sprint(g) != fmt.Sprint(c.want) {
			t.Errorf("parse(%s)\n got %+v\nwant %+v", Redact(c.url), g, c.want)
		}
		if tc := o.tls(); tc != nil && (tc.MinVersion < tls.VersionTLS12 || (o.simple == nil && tc.ServerName != "")) {
			t.Errorf("parse(%s): TLS %+v, want TLS 1.2 or newer, and each node checked by its own name", Redact(c.url), tc)
		}
	}
}

// TestParseRefuses: URLs that cannot work are refused with a message that says why.
func TestParseRefuses(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ url, says string }{
		{"localhost:6379", "not a URL"},
		{"http://h:1", `unknown scheme "http"`},
		{"redis-sentinel://s1:1", "master=NAME"},
		{"redis-sentinel://:a@s1:1?master=m&password=b", "given twice"},
		{"redis-sentinel://s1:1,s2?master=m", `"s2" is not host:port`},
		{"redis-cluster://n1:1/2", "one database"},
		{"redis-cluster://n1:1?db=2", "one database"},
		{"redis://h:1/x", "invalid database number"},
		{"redis://h:1?bogus=1", "bogus"},
	} {
		_, err := parse(c.url)
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("parse(%q) = %v, want an error saying %q", c.url, err, c.says)
		}
	}
}

// TestCAFileEveryTLSForm: REDIS_CA_FILE is the trusted root of every TLS form and refused with a
// form without TLS.
func TestCAFileEveryTLSForm(t *testing.T) {
	t.Parallel()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, selfSignedPEM(t), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"rediss://h:1", "rediss-sentinel://s:1?master=m", "rediss-cluster://n:1,n:2"} {
		c, err := NewClient(u, ca)
		if err != nil {
			t.Errorf("NewClient(%s, ca) = %v", u, err)
			continue
		}
		_ = c.Close()
		o, _ := parse(u)
		if tc := o.tls(); tc == nil {
			t.Errorf("%s: no TLS", u)
		}
	}
	// The CA is applied to the options NewClient builds: check through parse + the same step.
	for _, u := range []string{"redis://h:1", "redis-sentinel://s:1?master=m", "redis-cluster://n:1", "unix:///s.sock"} {
		if _, err := NewClient(u, ca); err == nil || !strings.Contains(err.Error(), "not a TLS form") {
			t.Errorf("NewClient(%s, ca) = %v, want the CA file refused for a form without TLS", u, err)
		}
	}
	if _, err := NewClient("rediss://h:1", filepath.Join(t.TempDir(), "missing.pem")); err == nil || !strings.Contains(err.Error(), "REDIS_CA_FILE") {
		t.Errorf("NewClient with a missing CA file = %v, want an error naming REDIS_CA_FILE", err)
	}
}

// TestPasswordNeverPrinted: for every URL form with a password, Redact, every parse error, the
// error of a refused connection and the printed Conn hold no password.
func TestPasswordNeverPrinted(t *testing.T) {
	t.Parallel()
	const pw = "Sec9ret-Pw4x"
	urls := []string{
		"redis://:" + pw + "@127.0.0.1:1/0",
		"redis://app:" + pw + "@127.0.0.1:1/0",
		"redis://" + pw + "@127.0.0.1:1/0",
		"rediss://app:" + pw + "@127.0.0.1:1/0",
		"unix://:" + pw + "@/tmp/none.sock",
		"redis-socket://:" + pw + "@/tmp/none.sock",
		"redis-sentinel://:" + pw + "@127.0.0.1:1,127.0.0.1:2?master=m",
		"redis-sentinel://127.0.0.1:1?master=m&sentinel_password=" + pw,
		"redis-sentinel://127.0.0.1:1?master=m&password=" + pw,
		"rediss-sentinel://app:" + pw + "@127.0.0.1:1?master=m&sentinel_password=" + pw + "&db=2",
		"redis-cluster://:" + pw + "@127.0.0.1:1,127.0.0.1:2",
		"rediss-cluster://app:" + pw + "@127.0.0.1:1",
		// Malformed: the password shows up where a parser would quote it.
		"redis://:" + pw + "@127.0.0.1:1/notadb",
		"redis://:" + pw + "@127.0.0.1:1?bogus=" + pw,
		"redis://app:" + pw + "/127.0.0.1:1",
		"redis://:" + pw + "@:bad:port",
		"redis-sentinel://:" + pw + "@s1:1,s2?master=m",
		"redis-sentinel://:" + pw + "@s1:1",
		"redis-cluster://:" + pw + "@n1:1/3",
		"redis-cluster://app:" + pw + "@n1",
		"redis://:p%25" + pw + "@127.0.0.1:1/x",
		"ftp://:" + pw + "@h",
		":" + pw + "@h:1",
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the connection attempts fail at once: the errors are what is checked
	for _, u := range urls {
		var out []string
		out = append(out, Redact(u))
		if _, err := parse(u); err != nil {
			out = append(out, err.Error())
		}
		if _, err := Open(ctx, Options{URL: u}); err != nil {
			out = append(out, err.Error())
		} else {
			t.Errorf("Open(%s) with a cancelled context succeeded", Redact(u))
		}
		c := &Conn{url: u}
		out = append(out, fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), c.Describe(false))
		for _, o := range out {
			if strings.Contains(o, pw) || strings.Contains(o, strings.ToLower(pw)) {
				t.Errorf("URL form %s: output %q holds the password", Redact(u), o)
			}
		}
	}
}

// TestWrongPasswordNotPrinted connects to a real server with a wrong password: the error names
// the server, not the password.
func TestWrongPasswordNotPrinted(t *testing.T) {
	t.Parallel()
	srv, err := redistest.Start(t.TempDir(), redistest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	if err := admin.ConfigSet(context.Background(), "requirepass", "the-right-one").Err(); err != nil {
		t.Fatal(err)
	}
	const pw = "Wrong7Pw-x2"
	_, err = Open(context.Background(), Options{URL: "redis://:" + pw + "@" + srv.Addr + "/0"})
	if err == nil {
		t.Fatal("Open with a wrong password succeeded")
	}
	if strings.Contains(err.Error(), pw) || !strings.Contains(err.Error(), srv.Addr) {
		t.Errorf("Open error = %q, want the server's address and no password", err)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"redis://localhost:6379/0":    "redis://localhost:6379/0",
		"redis://:pw@h:1/0":           "redis://:***@h:1/0",
		"redis://app:pw@h:1":          "redis://app:***@h:1",
		"redis://pw@h:1":              "redis://***@h:1",
		"redis://:p@w@h:1":            "redis://:***@h:1",
		"unix://:pw@/run/r.sock?db=2": "unix://:***@/run/r.sock?db=2",
		"redis-sentinel://:pw@a:1,b:2?master=m&sentinel_password=x&db=2": "redis-sentinel://:***@a:1,b:2?master=m&sentinel_password=***&db=2",
		"redis-cluster://u:pw@a:1,b:2":                                   "redis-cluster://u:***@a:1,b:2",
		"redis://app:pw/h:1":                                             "redis://app:***/h:1",
		"redis://[::1]:6379":                                             "redis://[::1]:6379",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestEmbeddedFallback: no URL and an Embed starts an embedded Redis; no URL and no Embed is
// ErrNoURL.
func TestEmbeddedFallback(t *testing.T) {
	t.Parallel()
	if _, err := Open(context.Background(), Options{}); err != ErrNoURL {
		t.Errorf("Open without a URL = %v, want ErrNoURL", err)
	}
	c, err := Open(context.Background(), Options{Embed: &Embed{InProcess: true}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Client.Set(context.Background(), "k", "v", 0).Err(); err != nil {
		t.Errorf("Set on the embedded Redis: %v", err)
	}
	if c.Embedded() == nil || !slices.Contains([]string{"using an in-process Redis"}, c.Describe(true)) {
		t.Errorf("Embedded() = %v, Describe(true) = %q", c.Embedded(), c.Describe(true))
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close = %v, want Close idempotent", err)
	}
}

// selfSignedPEM returns a self-signed CA certificate in PEM.
func selfSignedPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// TestSentinelMasterPassword runs a real master with a password behind a real sentinel with a
// password of its own: the URL's password reaches the master, sentinel_password the sentinel, db
// the database; a wrong sentinel password fails without printing either password.
func TestSentinelMasterPassword(t *testing.T) {
	t.Parallel()
	const masterPW, sentinelPW = "master-pw-Hy6Tg2", "sentinel-pw-Ju8Ki4"
	ctx := context.Background()
	master, err := redistest.Start(t.TempDir(), redistest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(master.Stop)
	admin := redis.NewClient(&redis.Options{Addr: master.Addr})
	err = admin.ConfigSet(ctx, "requirepass", masterPW).Err()
	_ = admin.Close()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	host, port, _ := strings.Cut(master.Addr, ":")
	conf := filepath.Join(dir, "sentinel.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("sentinel monitor mymaster %s %s 1\nsentinel auth-pass mymaster %s\nrequirepass %s\n", host, port, masterPW, sentinelPW)), 0o600); err != nil {
		t.Fatal(err)
	}
	sentinel, err := redistest.Start(dir, redistest.Options{ConfigFile: conf, Args: []string{"--sentinel"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sentinel.Stop)

	c, err := Open(ctx, Options{URL: "redis-sentinel://:" + masterPW + "@" + sentinel.Addr + "?master=mymaster&sentinel_password=" + sentinelPW + "&db=3"})
	if err != nil {
		t.Fatalf("Open through the sentinel: %v", err)
	}
	defer c.Close()
	if err := c.Client.Set(ctx, "via-sentinel", "1", 0).Err(); err != nil {
		t.Fatalf("Set through the sentinel: %v", err)
	}
	direct := redis.NewClient(&redis.Options{Addr: master.Addr, Password: masterPW, DB: 3})
	defer direct.Close()
	if v, err := direct.Get(ctx, "via-sentinel").Result(); err != nil || v != "1" {
		t.Errorf("the master's database 3 holds via-sentinel = %q, %v; want 1", v, err)
	}

	for _, u := range []string{
		"redis-sentinel://:" + masterPW + "@" + sentinel.Addr + "?master=mymaster&sentinel_password=wrong-" + sentinelPW,
		"redis-sentinel://:wrong-" + masterPW + "@" + sentinel.Addr + "?master=mymaster&sentinel_password=" + sentinelPW,
	} {
		_, err := Open(ctx, Options{URL: u})
		if err == nil {
			t.Errorf("Open(%s) succeeded, want a refusal", Redact(u))
			continue
		}
		if strings.Contains(err.Error(), masterPW) || strings.Contains(err.Error(), sentinelPW) {
			t.Errorf("Open(%s) = %q holds a password", Redact(u), err)
		}
	}
}
