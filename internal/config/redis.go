package config

import (
	"reactivator/internal/embedredis"
	"reactivator/internal/redisconn"
)

// Redis returns the options of the Redis url (--redis) names, else REDIS_URL, with ca (--redis-ca,
// else REDIS_CA_FILE) as the trusted CA. When neither names one, embed (nil: none; redisconn.Open
// then refuses) is the embedded Redis to start: its StateDir "" is REACTIVATOR_STATE_DIR, else the
// user's state directory (embedredis.DefaultStateDir), unless it runs in process.
func (e Env) Redis(url, ca string, embed *redisconn.Embed) (redisconn.Options, error) {
	opts := redisconn.Options{URL: e.First(url, "REDIS_URL"), CAFile: e.First(ca, "REDIS_CA_FILE")}
	if opts.URL != "" || embed == nil {
		return opts, nil
	}
	emb := *embed
	if emb.StateDir == "" {
		emb.StateDir = e.First("", "REACTIVATOR_STATE_DIR")
	}
	if emb.StateDir == "" && !emb.InProcess {
		dir, err := embedredis.DefaultStateDir(e)
		if err != nil {
			return opts, err
		}
		emb.StateDir = dir
	}
	opts.Embed = &emb
	return opts, nil
}
