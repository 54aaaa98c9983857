package client

import (
	"context"
	"io"
)

// Do sends a request with body (nil for none) and returns the response
// once its head arrives: the blocking convenience for the common case.
// The caller reads res.Body to its end or closes it; then the connection
// goes back to the agent. opts.Events still receive every event.
func Do(ctx context.Context, opts Options, body io.Reader) (*IncomingMessage, error) {
	req, err := NewRequest(ctx, opts)
	if err != nil {
		return nil, err
	}
	if body != nil {
		buf := make([]byte, 32<<10)
		for {
			n, rerr := body.Read(buf)
			if n > 0 {
				if werr := req.Write(buf[:n]); werr != nil {
					break // the request failed: Response reports why
				}
			}
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				req.Destroy(rerr)
				return nil, rerr
			}
		}
	}
	_ = req.End(nil) // an error here is the request's: Response reports it
	return req.Response(ctx)
}

// Get is http.get: a GET of rawURL with opts (nil for the defaults),
// ended at once.
func Get(ctx context.Context, rawURL string, opts *Options) (*IncomingMessage, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.URL, o.Method = rawURL, "GET"
	return Do(ctx, o, nil)
}
