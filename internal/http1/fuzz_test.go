package http1_test

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/http1"
)

// The fuzz targets are seeded from the golden inputs; Go adds the
// crashers kept in testdata/fuzz/<target>/ as regression seeds.

func FuzzParseRequest(f *testing.F) {
	for _, c := range loadGolden(f) {
		if !c.Response {
			f.Add(c.Raw, uint16(len(c.Raw)/2))
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte, cut uint16) {
		checkHead(t, false, raw, int(cut))
		checkTranscript(t, false, raw, int(cut))
	})
}

func FuzzParseResponse(f *testing.F) {
	for _, c := range loadGolden(f) {
		if c.Response {
			f.Add(c.Raw, uint16(len(c.Raw)/2))
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte, cut uint16) {
		checkHead(t, true, raw, int(cut))
		checkTranscript(t, true, raw, int(cut))
	})
}

func FuzzChunked(f *testing.F) {
	for _, c := range loadGolden(f) {
		var p http1.Parser
		var h http1.Head
		p.Reset()
		var err error
		if c.Response {
			err = p.ParseResponse(c.Raw, &h)
		} else {
			err = p.ParseRequest(c.Raw, &h)
		}
		if err == nil && h.Chunked {
			f.Add(c.Raw[h.Size:], uint16(len(c.Raw)-h.Size)/2, uint8(3))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, cut uint16, max uint8) {
		checkChunked(t, body, int(cut), int(max)+1)
	})
}

// parseResult is what parsing a head gave.
type parseResult struct {
	Head view
	Err  error
}

func parseHead(response bool, p *http1.Parser, buf []byte, h *http1.Head) error {
	if response {
		return p.ParseResponse(buf, h)
	}
	return p.ParseRequest(buf, h)
}

// checkHead requires that the head in raw parses the same whole and
// split at cut, and that an accepted head, written back from its Head,
// parses to the same Head.
func checkHead(t *testing.T, response bool, raw []byte, cut int) {
	var p http1.Parser
	var h http1.Head
	p.Reset()
	whole := parseResult{Err: parseHead(response, &p, raw, &h)}
	if whole.Err == nil {
		whole.Head = headView(&h)
	}

	cut %= len(raw) + 1
	p.Reset()
	var split parseResult
	split.Err = parseHead(response, &p, append([]byte(nil), raw[:cut]...), &h)
	if split.Err == http1.ErrNeedMore {
		split.Err = parseHead(response, &p, append([]byte(nil), raw...), &h)
	}
	if split.Err == nil {
		split.Head = headView(&h)
	}
	if overflow(whole.Err) || overflow(split.Err) {
		// Like llhttp, the parser counts the part of a field that a piece
		// ends in, so a split can reach the limit before an error that the
		// whole input shows later. Both must still be refused.
		require.True(t, isParseError(whole.Err) && isParseError(split.Err),
			"whole: %v, split at %d: %v", whole.Err, cut, split.Err)
		return
	}
	require.Equal(t, whole, split, "split at %d", cut)
	if whole.Err != nil {
		require.True(t, whole.Err == http1.ErrNeedMore || isParseError(whole.Err), "unexpected error %v", whole.Err)
		return
	}

	again := writeHead(response, &h)
	p.Reset()
	var h2 http1.Head
	require.NoError(t, parseHead(response, &p, again, &h2), "re-parsing %q written back from %q", again, raw)
	want := whole.Head
	want.Size = len(again)
	require.Equal(t, want, headView(&h2), "re-parsing %q written back from %q", again, raw)
}

// writeHead writes a head back from the fields of h.
func writeHead(response bool, h *http1.Head) []byte {
	var b []byte
	switch {
	case response:
		b = fmt.Appendf(b, "HTTP/%d.%d %03d", h.Major, h.Minor, h.StatusCode)
		if h.Reason != nil {
			b = append(append(b, ' '), h.Reason...)
		}
	case h.Major == 0 && h.Minor == 9:
		b = fmt.Appendf(b, "%s %s", h.Method, h.Target)
	default:
		b = fmt.Appendf(b, "%s %s HTTP/%d.%d", h.Method, h.Target, h.Major, h.Minor)
	}
	b = append(b, "\r\n"...)
	for _, f := range h.Fields {
		b = http1.AppendField(b, string(f.Name), string(f.Value))
	}
	return append(b, "\r\n"...)
}

// checkTranscript requires that a whole stream of messages, bodies
// included, reads the same fed at once and fed in small pieces.
func checkTranscript(t *testing.T, response bool, raw []byte, cut int) {
	whole := runTranscript(response, raw, 0, 0)
	step := 1 + cut%13
	pieces := runTranscript(response, raw, 0, step)
	if overflow(errorOf(whole)) || overflow(errorOf(pieces)) {
		require.Equal(t, whole.errorCode() != "", pieces.errorCode() != "", "whole:\n%s\nin pieces of %d:\n%s", whole, step, pieces)
		return
	}
	require.Equal(t, whole, pieces, "in pieces of %d", step)
}

// checkChunked requires that body decodes the same whole and split at
// cut with data runs of at most max bytes, and that a decoded body,
// encoded again as one chunk and its trailers, decodes the same.
func checkChunked(t *testing.T, body []byte, cut, max int) {
	whole := decodePieces(t, string(body), nil, math.MaxInt, 0)
	cut %= len(body) + 1
	split := decodePieces(t, string(body), []int{cut}, max, 0)
	if overflow(whole.Err) || overflow(split.Err) {
		require.True(t, isParseError(whole.Err) && isParseError(split.Err), "whole: %v, split: %v", whole.Err, split.Err)
		return
	}
	require.Equal(t, whole, split, "split at %d, max %d", cut, max)
	if whole.Err != nil {
		require.True(t, isParseError(whole.Err), "unexpected error %v", whole.Err)
		return
	}
	if !whole.Done {
		require.Equal(t, len(body), whole.Used, "an unfinished body is consumed whole")
		return
	}
	var again []byte
	if whole.Data != "" {
		again = http1.AppendChunkHeader(again, len(whole.Data))
		again = append(again, whole.Data+"\r\n"...)
	}
	again = append(again, "0\r\n"...)
	for _, tr := range whole.Trailers {
		again = append(again, tr+"\r\n"...)
	}
	again = append(again, "\r\n"...)
	d2 := decodePieces(t, string(again), nil, math.MaxInt, 0)
	require.NoError(t, d2.Err, "decoding %q encoded again from %q", again, body)
	require.Equal(t, whole.Data, d2.Data)
	require.Equal(t, whole.Trailers, d2.Trailers)
	require.Equal(t, len(again), d2.Used)
}

func isParseError(err error) bool {
	var pe *http1.ParseError
	return errors.As(err, &pe)
}

func overflow(err error) bool {
	return errors.Is(err, http1.ErrHeaderOverflow) || errors.Is(err, http1.ErrChunkExtensionsOverflow)
}

// errorOf returns a ParseError for the code a transcript ends with.
func errorOf(t transcript) error {
	if code := t.errorCode(); code != "" {
		return &http1.ParseError{Code: code}
	}
	return nil
}
