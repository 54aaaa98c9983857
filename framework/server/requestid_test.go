package server

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/http1"
)

// FuzzRequestID gives assignRequestID a head with zero, one or two
// X-Request-Id fields of any value among other fields. Afterwards the head
// has exactly one, sane, equal to RequestID; the client's is kept when it
// sent one sane value; the other fields keep their order.
func FuzzRequestID(f *testing.F) {
	f.Add([]byte("abc-123"), []byte(""), uint8(1))
	f.Add([]byte("a b"), []byte(""), uint8(1))
	f.Add([]byte("a"), []byte("b"), uint8(2))
	f.Add([]byte(""), []byte(""), uint8(0))
	f.Add(bytes.Repeat([]byte("x"), 129), []byte(""), uint8(1))
	s := New(Options{RequestID: true})
	f.Fuzz(func(t *testing.T, v1, v2 []byte, n uint8) {
		n %= 3
		fields := []http1.Field{{Name: []byte("Host"), Value: []byte("a")}}
		if n >= 1 {
			fields = append(fields, http1.Field{Name: []byte("x-request-ID"), Value: v1})
		}
		fields = append(fields, http1.Field{Name: []byte("Accept"), Value: []byte("*/*")})
		if n == 2 {
			fields = append(fields, http1.Field{Name: []byte("X-Request-Id"), Value: v2})
		}
		req := &IncomingMessage{head: &http1.Head{Fields: fields}}
		s.assignRequestID(req)

		id := req.RequestID()
		require.True(t, saneRequestID(id), "%q", id)
		if n == 1 && saneRequestID(v1) {
			require.Equal(t, v1, id)
		}
		var others []string
		count := 0
		for _, f := range req.head.Fields {
			if bytes.EqualFold(f.Name, []byte("x-request-id")) {
				count++
				require.Equal(t, id, f.Value)
				continue
			}
			others = append(others, string(f.Name))
		}
		require.Equal(t, 1, count)
		require.Equal(t, []string{"Host", "Accept"}, others)
	})
}

func TestGeneratedRequestIDsAreUniqueAndSane(t *testing.T) {
	s := New(Options{RequestID: true})
	seen := map[string]bool{}
	for range 1000 {
		req := &IncomingMessage{head: &http1.Head{}}
		s.assignRequestID(req)
		id := string(req.RequestID())
		require.True(t, saneRequestID([]byte(id)), id)
		require.False(t, seen[id], id)
		seen[id] = true
	}
	off := New(Options{})
	req := &IncomingMessage{head: &http1.Head{}}
	off.assignRequestID(req)
	require.Nil(t, req.RequestID())
	require.Empty(t, req.head.Fields)
}
