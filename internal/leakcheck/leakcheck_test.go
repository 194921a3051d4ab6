package leakcheck

import (
	"context"
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"reactivator/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

const secret = "s3cr3t-Zq8vN3kLp0sW7x+Yc/2bR5tU9mA4dE6fG1hJ="

func TestNeedlesFindEveryForm(t *testing.T) {
	t.Parallel()
	needles := Needles("stytch secret", secret)
	tests := []struct {
		name, text string
	}{
		{"raw", "err: bad secret " + secret + " given"},
		{"basic auth of the secret alone", "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(secret))},
		{"url alphabet", base64.URLEncoding.EncodeToString([]byte(secret))},
		{"form body", "client_secret=" + url.QueryEscape(secret) + "&grant_type=x"},
		{"json string", `{"msg":"` + strings.ReplaceAll(secret, "/", `\/`) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Text("log", []byte(tt.text), needles); len(got) == 0 {
				t.Errorf("Text(%q) = no finding, want the secret found", tt.text)
			}
		})
	}
}

func TestTextFindsNothingClean(t *testing.T) {
	t.Parallel()
	needles := append(Needles("token", secret), BasicAuth("stytch", "project-test-1", secret)...)
	clean := "level=INFO msg=\"row done\" secret=[redacted] base=http://127.0.0.1:1234"
	if got := Text("log", []byte(clean), needles); len(got) != 0 {
		t.Errorf("Text(%q) = %v, want no finding", clean, got)
	}
}

func TestShortSecretsAreNotNeedles(t *testing.T) {
	t.Parallel()
	for _, n := range Needles("short", "abc") {
		if len(n.Value) < minLen {
			t.Errorf("Needles(short) holds %q, want no needle under %d bytes", n.Name, minLen)
		}
	}
}

func TestBasicAuthAndPEM(t *testing.T) {
	t.Parallel()
	hdr := "Basic " + base64.StdEncoding.EncodeToString([]byte("project-test-1:"+secret))
	if got := Text("header", []byte(hdr), BasicAuth("stytch", "project-test-1", secret)); len(got) != 1 {
		t.Errorf("Text(basic header) = %v, want one finding", got)
	}
	pem := "-----BEGIN RSA PRIVATE KEY-----\n" + strings.Repeat("A", 64) + "\n" + strings.Repeat("B", 64) + "\nCC==\n-----END RSA PRIVATE KEY-----\n"
	needles := PEM("key", pem)
	if len(needles) != 2 {
		t.Fatalf("PEM(key) = %d needles, want 2 (the full body lines)", len(needles))
	}
	escaped := `{"key":"-----BEGIN RSA PRIVATE KEY-----\n` + strings.Repeat("B", 64) + `\n"}`
	if got := Text("log", []byte(escaped), needles); len(got) != 1 {
		t.Errorf("Text(json-escaped key) = %v, want one finding", got)
	}
}

func TestLinesNamesTheLine(t *testing.T) {
	t.Parallel()
	got := Lines("worker.log", []byte("a\nb\nx "+secret+"\n"), Needles("s", secret))
	if len(got) != 1 || got[0].Where != "worker.log line 3" {
		t.Errorf("Lines = %v, want one finding on worker.log line 3", got)
	}
	if s := got[0].String(); strings.Contains(s, secret) {
		t.Errorf("Finding.String() = %q, want the needle's name, never its value", s)
	}
}

func TestRedisReadsEveryType(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	needles := Needles("secret", secret)
	tests := []struct {
		name  string
		write func(rdb *redis.Client, k string) error
	}{
		{"string", func(rdb *redis.Client, k string) error { return rdb.Set(ctx, k, "x"+secret, 0).Err() }},
		{"hash value", func(rdb *redis.Client, k string) error { return rdb.HSet(ctx, k, "f", secret).Err() }},
		{"hash field", func(rdb *redis.Client, k string) error { return rdb.HSet(ctx, k, secret, "1").Err() }},
		{"list", func(rdb *redis.Client, k string) error { return rdb.RPush(ctx, k, "a", secret).Err() }},
		{"set", func(rdb *redis.Client, k string) error { return rdb.SAdd(ctx, k, secret).Err() }},
		{"zset", func(rdb *redis.Client, k string) error {
			return rdb.ZAdd(ctx, k, redis.Z{Score: 1, Member: secret}).Err()
		}},
		{"stream", func(rdb *redis.Client, k string) error {
			return rdb.XAdd(ctx, &redis.XAddArgs{Stream: k, Values: map[string]any{"err": "401 " + secret}}).Err()
		}},
		{"key name", func(rdb *redis.Client, k string) error { return rdb.Set(ctx, k+":"+secret, "1", 0).Err() }},
		{"binary value", func(rdb *redis.Client, k string) error {
			return rdb.HSet(ctx, k, "msg", "\x0a\x12\x00\xff"+secret+"\x00").Err()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rdb := redistest.Shared(t).Client(t)
			if err := rdb.Set(ctx, "clean", "nothing here", 0).Err(); err != nil {
				t.Fatal(err)
			}
			if err := tt.write(rdb, "k"); err != nil {
				t.Fatal(err)
			}
			got, keys, err := Redis(ctx, rdb, needles)
			if err != nil {
				t.Fatalf("Redis() error = %v", err)
			}
			if keys != 2 {
				t.Errorf("Redis() read %d keys, want 2", keys)
			}
			if len(got) == 0 {
				t.Fatalf("Redis() = no finding, want the secret found in a %s", tt.name)
			}
			if slices.ContainsFunc(got, func(f Finding) bool { return strings.Contains(f.Where, "clean") }) {
				t.Errorf("Redis() = %v, want nothing in the clean key", got)
			}
		})
	}
}

func TestRedisCleanDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redistest.Shared(t).Client(t)
	for i, k := range []string{"a", "b", "c"} {
		if err := rdb.HSet(ctx, k, "n", i).Err(); err != nil {
			t.Fatal(err)
		}
	}
	got, keys, err := Redis(ctx, rdb, Needles("secret", secret))
	if err != nil || len(got) != 0 || keys != 3 {
		t.Errorf("Redis(clean) = %v, %d keys, %v; want no finding in 3 keys", got, keys, err)
	}
}
