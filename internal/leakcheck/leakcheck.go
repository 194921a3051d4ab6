// Package leakcheck finds secrets where they must never be: in Redis, in logs, in reports, in
// error messages. Tests hand it the secrets of their world and the places to look.
package leakcheck

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// A Needle is one form a secret could take once it escaped: the secret itself, or an encoding
// of it (base64 in a Basic auth header, URL-escaped in a form body, JSON-escaped in a log).
type Needle struct {
	// Name says which secret and which form, e.g. "stytch secret (base64)"; never the value.
	Name  string
	Value string
}

// minLen is the shortest value worth looking for: shorter ones would match by chance.
const minLen = 8

// Needles returns the forms of one named secret worth looking for: the value, its base64
// (standard and URL alphabets, padded and not), its URL query and path escaping and its JSON string
// escaping (with and without escaped slashes), each once. Forms shorter than 8 bytes are left out.
func Needles(name, secret string) []Needle {
	var out []Needle
	seen := map[string]bool{}
	add := func(form, v string) {
		if len(v) < minLen || seen[v] {
			return
		}
		seen[v] = true
		out = append(out, Needle{Name: name + " (" + form + ")", Value: v})
	}
	add("raw", secret)
	for _, enc := range []struct {
		form string
		e    *base64.Encoding
	}{{"base64", base64.StdEncoding}, {"base64url", base64.URLEncoding}, {"base64 unpadded", base64.RawStdEncoding}, {"base64url unpadded", base64.RawURLEncoding}} {
		add(enc.form, enc.e.EncodeToString([]byte(secret)))
	}
	add("url-escaped", url.QueryEscape(secret))
	add("path-escaped", url.PathEscape(secret))
	if b, err := json.Marshal(secret); err == nil {
		add("json-escaped", string(b[1:len(b)-1]))
		add("json-escaped slashes", strings.ReplaceAll(string(b[1:len(b)-1]), "/", `\/`))
	}
	return out
}

// BasicAuth returns the needles of user:secret as an HTTP Basic Authorization header carries it
// (base64 of both together), named name.
func BasicAuth(name, user, secret string) []Needle {
	v := base64.StdEncoding.EncodeToString([]byte(user + ":" + secret))
	return []Needle{{Name: name + " (basic auth header)", Value: v}}
}

// PEM returns needles for a PEM block such as a private key: each full base64 line of its body
// (64 characters), so that a key printed whole, JSON-escaped or cut anywhere near a line is
// still found. Header lines (-----BEGIN …) are not secrets and are skipped.
func PEM(name, pem string) []Needle {
	var out []Needle
	for i, line := range strings.Split(pem, "\n") {
		line = strings.TrimSpace(line)
		if len(line) < 48 || strings.HasPrefix(line, "-----") {
			continue
		}
		out = append(out, Needle{Name: fmt.Sprintf("%s (PEM line %d)", name, i+1), Value: line})
	}
	return out
}

// A Finding is one needle found in one place.
type Finding struct {
	// Where names the place: "redis key asynq:{q}:t:id field msg", "worker.log line 12", ….
	Where string
	// Needle is the name of the needle found, never its value.
	Needle string
}

func (f Finding) String() string { return f.Needle + " in " + f.Where }

// Text returns the needles found in b, a text named where.
func Text(where string, b []byte, needles []Needle) []Finding {
	var out []Finding
	for _, n := range needles {
		if n.Value != "" && bytes.Contains(b, []byte(n.Value)) {
			out = append(out, Finding{Where: where, Needle: n.Name})
		}
	}
	return out
}

// Lines is Text applied to each line of b, so that a finding names its line (1-based).
func Lines(where string, b []byte, needles []Needle) []Finding {
	var out []Finding
	for i, line := range bytes.Split(b, []byte("\n")) {
		out = append(out, Text(fmt.Sprintf("%s line %d", where, i+1), line, needles)...)
	}
	return out
}

// Redis scans every key of the database rdb is connected to (SCAN, so the server keeps
// serving) and reads each value by its type: strings, hashes (fields and values), lists, sets,
// sorted sets (members) and streams (fields and values). Key names are searched too. asynq's
// task hashes hold the payload and the last error inside a protobuf message; the needles are
// found in its bytes all the same. It returns the findings and how many keys it read.
func Redis(ctx context.Context, rdb redis.UniversalClient, needles []Needle) ([]Finding, int, error) {
	var out []Finding
	keys := 0
	var cursor uint64
	for {
		batch, next, err := rdb.Scan(ctx, cursor, "*", 500).Result()
		if err != nil {
			return out, keys, fmt.Errorf("scan redis: %w", err)
		}
		for _, k := range batch {
			vals, err := values(ctx, rdb, k)
			if err != nil {
				return out, keys, err
			}
			keys++
			out = append(out, Text("redis key name "+k, []byte(k), needles)...)
			for _, v := range vals {
				out = append(out, Text("redis key "+k+" "+v.where, []byte(v.v), needles)...)
			}
		}
		if cursor = next; cursor == 0 {
			return out, keys, nil
		}
	}
}

type value struct{ where, v string }

// values reads key k with the read its type asks for.
func values(ctx context.Context, rdb redis.UniversalClient, k string) ([]value, error) {
	typ, err := rdb.Type(ctx, k).Result()
	if err != nil {
		return nil, fmt.Errorf("type of %s: %w", k, err)
	}
	var out []value
	switch typ {
	case "none": // expired between SCAN and TYPE
	case "string":
		v, err := rdb.Get(ctx, k).Result()
		if err != nil && err != redis.Nil {
			return nil, fmt.Errorf("get %s: %w", k, err)
		}
		out = append(out, value{"value", v})
	case "hash":
		m, err := rdb.HGetAll(ctx, k).Result()
		if err != nil {
			return nil, fmt.Errorf("hgetall %s: %w", k, err)
		}
		for f, v := range m {
			out = append(out, value{"field name " + f, f}, value{"field " + f, v})
		}
	case "list":
		l, err := rdb.LRange(ctx, k, 0, -1).Result()
		if err != nil {
			return nil, fmt.Errorf("lrange %s: %w", k, err)
		}
		for i, v := range l {
			out = append(out, value{fmt.Sprintf("element %d", i), v})
		}
	case "set":
		l, err := rdb.SMembers(ctx, k).Result()
		if err != nil {
			return nil, fmt.Errorf("smembers %s: %w", k, err)
		}
		for _, v := range l {
			out = append(out, value{"member", v})
		}
	case "zset":
		l, err := rdb.ZRange(ctx, k, 0, -1).Result()
		if err != nil {
			return nil, fmt.Errorf("zrange %s: %w", k, err)
		}
		for _, v := range l {
			out = append(out, value{"member", v})
		}
	case "stream":
		l, err := rdb.XRange(ctx, k, "-", "+").Result()
		if err != nil {
			return nil, fmt.Errorf("xrange %s: %w", k, err)
		}
		for _, m := range l {
			for f, v := range m.Values {
				out = append(out, value{"entry " + m.ID + " " + f, f + "=" + fmt.Sprint(v)})
			}
		}
	default:
		return nil, fmt.Errorf("key %s has type %s, which the leak scan cannot read: teach it", k, typ)
	}
	return out, nil
}
