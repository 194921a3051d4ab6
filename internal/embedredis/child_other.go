// This file stands in for the redis-server child where it cannot run: the in-process Redis is used.

//go:build !unix

package embedredis

import (
	"context"
	"errors"
	"log/slog"
)

// childSupported says whether this platform can run the redis-server child.
const childSupported = false

type child struct{ dir string }

func (c *child) url() string { return "" }
func (c *child) stop() error { return nil }

func startChild(context.Context, string, string, *slog.Logger) (*child, error) {
	return nil, errors.New("the embedded redis-server needs a Unix system")
}
