// This file lets other packages make one authenticated ZITADEL call with a JSON body (find's
// listing and events search) through the client's credentials, timeout and secret scrubbing.

package zitadel

import (
	"bytes"
	"context"
	"fmt"
	"net/http"

	"reactivator/internal/httpapi"
	"reactivator/jobs"
)

// Call sends one authenticated request to the instance's base URL plus path with body (JSON; nil
// sends none) and returns the answer's status and body. A 401 to a fetched token is retried once
// with a fresh token. A call that got no answer returns an error; one whose token the provider
// refused wraps jobs.ErrFatal.
func (c *Client) Call(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	ans, _, err := c.call(ctx, method, path, body)
	return ans.status, ans.body, err
}

// call is Call with the answer's headers and the token it sent.
func (c *Client) call(ctx context.Context, method, path string, body []byte) (reply, string, error) {
	ans, tok, err := c.callOnce(ctx, method, path, body)
	if err == nil && ans.status == http.StatusUnauthorized && c.tokens.invalidate(tok) {
		ans, tok, err = c.callOnce(ctx, method, path, body)
	}
	return ans, tok, err
}

func (c *Client) callOnce(ctx context.Context, method, path string, body []byte) (reply, string, error) {
	tctx, cancel := context.WithTimeout(ctx, c.timeout)
	tok, err := c.tokens.token(tctx)
	cancel()
	if err != nil {
		res := tokenResult(err, c.advice)
		msg := c.scrub(res.Message, "")
		if res.Class == jobs.ClassFatal {
			return reply{}, "", fmt.Errorf("zitadel: %s: %w", msg, jobs.ErrFatal)
		}
		return reply{}, "", fmt.Errorf("zitadel: %s", msg)
	}
	ctx, cancel = context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return reply{}, tok, fmt.Errorf("zitadel: cannot build the request: %s", c.scrub(httpapi.Redact(err), tok))
	}
	httpapi.SetCommonHeaders(req.Header)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := c.hc.Do(req)
	if err != nil {
		return reply{}, tok, fmt.Errorf("zitadel: %s %s: %s", method, path, c.scrub(httpapi.TransportResult(err).Message, tok))
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: httpapi.ReadBody(resp)}, tok, nil
}
