// This file lets other packages make one authenticated Stytch call (find's organization look-up
// and members search) through the client's credentials, timeout and secret scrubbing.

package stytch

import (
	"context"
	"fmt"
)

// Call sends one authenticated request to the project's base URL plus escapedPath with body
// (JSON; nil sends none) and returns the answer's status and body. The path must stay as given:
// a path that would change when parsed is refused before any call.
func (c *Client) Call(ctx context.Context, method, escapedPath string, body []byte) (int, []byte, error) {
	status, _, b, err := c.send(ctx, method, escapedPath, "", string(body))
	if err != nil {
		return 0, nil, fmt.Errorf("stytch: %s %s: %s", method, escapedPath, c.scrub(err.Error()))
	}
	return status, b, nil
}
