// This file turns a REDIS_URL of any supported form into go-redis options, with the CA file applied
// to every TLS form, and redacts the URL's secrets from everything that prints it.

package redisconn

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Forms lists the URL forms NewClient accepts, for messages.
const Forms = "redis://, rediss://, unix://, redis-sentinel://, rediss-sentinel://, redis-cluster:// or rediss-cluster://"

// NewClient returns a client for the Redis that url names; it does no I/O. caFile, when not empty,
// is a PEM file of the CAs trusted for the TLS forms (rediss://, rediss-sentinel://,
// rediss-cluster://); it is an error with a form without TLS. The URL forms:
//
//   - redis://[[user]:PASSWORD@]host[:port][/db][?param=value…] and rediss:// (TLS)
//   - unix://[[user]:PASSWORD@]/path/to/redis.sock[?db=N]
//   - redis-sentinel://[[user]:PASSWORD@]host:port[,host:port…][/db]?master=NAME[&sentinel_password=P][&db=N]
//     (PASSWORD authenticates the master and its replicas, sentinel_password the sentinels;
//     rediss-sentinel:// speaks TLS to both)
//   - redis-cluster://[[user]:PASSWORD@]host:port[,host:port…][?param=value…] and rediss-cluster://
//     (TLS): any of the cluster's nodes; the client learns the others from them
//
// The other query parameters are go-redis's (dial_timeout, pool_size, …). Errors never hold a
// password: they show the URL as Redact does.
func NewClient(rawURL, caFile string) (redis.UniversalClient, error) {
	o, err := parse(rawURL)
	if err != nil {
		return nil, err
	}
	tlsConf := o.tls()
	if caFile != "" {
		if tlsConf == nil {
			return nil, fmt.Errorf("REDIS_CA_FILE is set but REDIS_URL %s is not a TLS form (rediss://, rediss-sentinel:// or rediss-cluster://)", Redact(rawURL))
		}
		pool, err := readCA(caFile)
		if err != nil {
			return nil, err
		}
		tlsConf.RootCAs = pool
	}
	switch {
	case o.cluster != nil:
		return redis.NewClusterClient(o.cluster), nil
	case o.failover != nil:
		return redis.NewFailoverClient(o.failover), nil
	}
	return redis.NewClient(o.simple), nil
}

// options are the parsed options of one URL: exactly one of the three is set.
type options struct {
	simple   *redis.Options
	failover *redis.FailoverOptions
	cluster  *redis.ClusterOptions
}

// tls returns the TLS configuration of the options, nil for a form without TLS.
func (o options) tls() *tls.Config {
	switch {
	case o.cluster != nil:
		return o.cluster.TLSConfig
	case o.failover != nil:
		return o.failover.TLSConfig
	}
	return o.simple.TLSConfig
}

// parse reads a URL of any form into go-redis options, with go-redis's own parsers: a sentinel or
// cluster URL is rewritten into the form go-redis parses (the first host as the URL's host, the
// others as addr parameters).
func parse(rawURL string) (options, error) {
	fail := func(err error) (options, error) {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the whole URL
		}
		return options{}, fmt.Errorf("REDIS_URL %s: %s", Redact(rawURL), scrub(rawURL, err.Error()))
	}
	scheme, _, ok := strings.Cut(rawURL, "://")
	if !ok {
		return fail(fmt.Errorf("not a URL: want %s", Forms))
	}
	switch scheme {
	case "redis", "rediss", "unix":
		o, err := redis.ParseURL(rawURL)
		if err != nil {
			return fail(err)
		}
		return options{simple: o}, nil
	case "redis-socket":
		// asynq's name for unix://, kept for URLs written for asynq.
		o, err := redis.ParseURL("unix" + strings.TrimPrefix(rawURL, scheme))
		if err != nil {
			return fail(err)
		}
		return options{simple: o}, nil
	case "redis-sentinel", "rediss-sentinel":
		u, err := multiHost(rawURL)
		if err != nil {
			return fail(err)
		}
		q := u.Query()
		master := q.Get("master")
		if master == "" {
			return fail(errors.New("a sentinel URL needs ?master=NAME, the name the sentinels monitor"))
		}
		if q.Has("password") && u.User != nil {
			return fail(errors.New("the master's password is given twice (before the @ and as password=): keep one"))
		}
		q.Del("master")
		q.Set("master_name", master)
		if u.User != nil {
			// go-redis reads the user info as the sentinels' credentials and password= as the
			// master's; ours is the other way round, as in most Redis URL conventions.
			if p, ok := u.User.Password(); ok {
				q.Set("password", p)
			}
			if n := u.User.Username(); n != "" {
				q.Set("username", n)
			}
			u.User = nil
		}
		if sp := q.Get("sentinel_password"); sp != "" {
			u.User = url.UserPassword(q.Get("sentinel_username"), sp)
		}
		q.Del("sentinel_password")
		q.Del("sentinel_username")
		u.Scheme = strings.TrimSuffix(scheme, "-sentinel")
		u.RawQuery = q.Encode()
		o, err := redis.ParseFailoverURL(u.String())
		if err != nil {
			return fail(err)
		}
		if o.TLSConfig != nil {
			o.TLSConfig.ServerName = "" // each sentinel and server by its own name (tls.Dial infers it)
		}
		return options{failover: o}, nil
	case "redis-cluster", "rediss-cluster":
		u, err := multiHost(rawURL)
		if err != nil {
			return fail(err)
		}
		if strings.Trim(u.Path, "/") != "" || u.Query().Has("db") {
			return fail(errors.New("a Redis Cluster has one database: leave the database out"))
		}
		u.Scheme = strings.TrimSuffix(scheme, "-cluster")
		o, err := redis.ParseClusterURL(u.String())
		if err != nil {
			return fail(err)
		}
		if o.TLSConfig != nil {
			o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12} // each node by its own name
		}
		return options{cluster: o}, nil
	}
	return fail(fmt.Errorf("unknown scheme %q: want %s", scheme, Forms))
}

// multiHost parses a URL whose host part lists host:port,host:port…: the first host becomes the
// URL's host and the others addr query parameters (go-redis's form for several addresses).
func multiHost(rawURL string) (*url.URL, error) {
	scheme, rest, _ := strings.Cut(rawURL, "://")
	auth, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		auth, tail = rest[:i], rest[i:]
	}
	user, hosts := "", auth
	if i := strings.LastIndex(auth, "@"); i >= 0 {
		user, hosts = auth[:i+1], auth[i+1:]
	}
	addrs := strings.Split(hosts, ",")
	for _, a := range addrs {
		if h, p, err := net.SplitHostPort(a); err != nil || h == "" || p == "" {
			return nil, fmt.Errorf("%q is not host:port (list the nodes as host:port,host:port)", a)
		}
	}
	u, err := url.Parse(scheme + "://" + user + addrs[0] + tail)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	for _, a := range addrs[1:] {
		q.Add("addr", a)
	}
	u.RawQuery = q.Encode()
	return u, nil
}

// readCA reads a PEM file of CA certificates.
func readCA(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("REDIS_CA_FILE: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("REDIS_CA_FILE: %s holds no PEM certificate", path)
	}
	return pool, nil
}

// Redact returns rawURL with every secret replaced by ***: the password of the user info (the whole
// user info when it has no colon, a bare password), the values of query parameters other than
// numbers, durations, booleans and server names, and anything after a host's colon that is not a port
// (a password whose @ was forgotten). It works on any string, a malformed URL included, and on
// every form NewClient accepts.
func Redact(rawURL string) string {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		scheme, rest = "", rawURL
	} else {
		scheme += "://"
	}
	main, query, hasQuery := strings.Cut(rest, "?")
	var b strings.Builder
	b.WriteString(scheme)
	if i := strings.LastIndex(main, "@"); i >= 0 {
		user, _, hasColon := strings.Cut(main[:i], ":")
		if hasColon && !strings.ContainsAny(user, "/") {
			b.WriteString(user + ":***@")
		} else {
			b.WriteString("***@")
		}
		main = main[i+1:]
	} else {
		auth, path := main, ""
		if j := strings.Index(main, "/"); j >= 0 {
			auth, path = main[:j], main[j:]
		}
		hosts := strings.Split(auth, ",")
		for k, h := range hosts {
			if c := strings.LastIndex(h, ":"); c >= 0 && !strings.HasSuffix(h, "]") && !allDigits(h[c+1:]) {
				hosts[k] = h[:c+1] + "***"
			}
		}
		main = strings.Join(hosts, ",") + path
	}
	b.WriteString(main)
	if hasQuery {
		b.WriteString("?")
		parts := strings.Split(query, "&")
		for k, p := range parts {
			if name, v, ok := strings.Cut(p, "="); ok && secretParam(name, v) {
				parts[k] = name + "=***"
			}
		}
		b.WriteString(strings.Join(parts, "&"))
	}
	return b.String()
}

// secretParam reports whether a query parameter's value may be a secret: any value but those of
// the parameters that name a server (master, addr, client_name) and those that are numbers,
// durations or booleans. A misspelt password= must not print its value.
func secretParam(name, value string) bool {
	switch strings.ToLower(name) {
	case "master", "master_name", "addr", "client_name":
		return false
	}
	if value == "" || allDigits(value) || value == "true" || value == "false" {
		return false
	}
	if _, err := time.ParseDuration(value); err == nil {
		return false
	}
	return true
}

// secrets returns what Redact hides in rawURL, as written and unescaped, longest first.
func secrets(rawURL string) []string {
	var out []string
	add := func(s string) {
		if s == "" {
			return
		}
		out = append(out, s)
		if u, err := url.PathUnescape(s); err == nil && u != s {
			out = append(out, u)
		}
		if u, err := url.QueryUnescape(s); err == nil && u != s {
			out = append(out, u)
		}
	}
	_, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		rest = rawURL
	}
	main, query, _ := strings.Cut(rest, "?")
	if i := strings.LastIndex(main, "@"); i >= 0 {
		user, pw, hasColon := strings.Cut(main[:i], ":")
		if hasColon && !strings.ContainsAny(user, "/") {
			add(pw)
		} else {
			add(main[:i])
		}
	} else {
		auth, _, _ := strings.Cut(main, "/")
		for _, h := range strings.Split(auth, ",") {
			if c := strings.LastIndex(h, ":"); c >= 0 && !strings.HasSuffix(h, "]") && !allDigits(h[c+1:]) {
				add(h[c+1:])
			}
		}
	}
	for _, p := range strings.Split(query, "&") {
		if name, v, ok := strings.Cut(p, "="); ok && secretParam(name, v) {
			add(v)
		}
	}
	// Longest first, so that a secret holding another is replaced whole.
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if len(out[j]) > len(out[i]) {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// scrub replaces in text every secret of rawURL by ***.
func scrub(rawURL, text string) string {
	for _, s := range secrets(rawURL) {
		text = strings.ReplaceAll(text, s, "***")
	}
	return text
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
