package echo

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/sdk"
)

// reference is the answer for q built the plain way: strings converted
// one by one, then encoding/json with reflection and maps. It is what
// the hand-written encoding must equal, byte for byte.
func reference(q *request) Answer {
	return Answer{
		Method:      latin1(q.method),
		URL:         latin1(q.url),
		HTTPVersion: latin1(q.httpVersion),
		Headers:     latin1Headers(q.headers),
		RawHeaders:  latin1List(q.rawHeaders),
		Trailers:    latin1Headers(q.trailers),
		RawTrailers: latin1List(q.rawTrailers),
		Body:        decodeUTF8(q.body),
		BodyLength:  q.bodyLength,
	}
}

func latin1(s string) string {
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

func latin1List(list []string) []string {
	if list == nil {
		return nil
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = latin1(s)
	}
	return out
}

func latin1Headers(h sdk.Headers) sdk.Headers {
	if h == nil {
		return nil
	}
	out := make(sdk.Headers, len(h))
	for k, v := range h {
		out[latin1(k)] = latin1List(v)
	}
	return out
}

// decodeUTF8 is WHATWG's UTF-8 decode, one maximal subpart at a time.
func decodeUTF8(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		n, ok := nextRune(b)
		if ok {
			sb.Write(b[:n])
		} else {
			sb.WriteRune('\uFFFD')
		}
		b = b[n:]
	}
	return sb.String()
}

// requireSameAsEncodingJSON fails unless appendAnswer writes for q what
// encoding/json writes for reference(q).
func requireSameAsEncodingJSON(t testing.TB, q *request) {
	t.Helper()
	a := reference(q)
	want, err := json.Marshal(&a)
	require.NoError(t, err)
	got, _ := appendAnswer(nil, q, nil)
	require.Equal(t, string(want), string(got), "for %#v", q)
}

// pieces are the fragments random strings are made of: every escape
// encoding/json knows, bytes above 0x7F, well-formed and ill-formed
// UTF-8, U+2028 and U+2029, a literal U+FFFD.
var pieces = []string{
	"a", "Z", "0", " ", "\"", "\\", "/", "<", ">", "&", "\x00", "\x01", "\b", "\f", "\n", "\r", "\t",
	"\x1f", "\x7f", "\x80", "\xbf", "\xc0", "\xc2", "\xe9", "\xff", "\xe2\x80\xa8", "\xe2\x80\xa9",
	"\xef\xbf\xbd", "é", "€", "😀", "\xe0\xa0", "\xf0\x90\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80",
	"caf\xe9", "u1, u2",
}

func randomString(r *rand.Rand) string {
	var sb strings.Builder
	for range r.IntN(8) {
		sb.WriteString(pieces[r.IntN(len(pieces))])
	}
	return sb.String()
}

func randomList(r *rand.Rand) []string {
	switch r.IntN(4) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	list := make([]string, 2*(1+r.IntN(3)))
	for i := range list {
		list[i] = randomString(r)
	}
	return list
}

func randomHeaders(r *rand.Rand) sdk.Headers {
	if r.IntN(5) == 0 {
		return nil
	}
	h := sdk.Headers{}
	for range r.IntN(5) {
		h[randomString(r)] = randomList(r)
	}
	if r.IntN(2) == 0 {
		h["set-cookie"] = randomList(r)
	}
	return h
}

func TestAnswerEncodingIsEncodingJSONs(t *testing.T) {
	t.Run("a typical request", func(t *testing.T) {
		requireSameAsEncodingJSON(t, &request{
			method: "POST", url: "/echo?a=<b>&c=d", httpVersion: "1.1",
			headers:    sdk.Headers{"host": {"h"}, "x-latin": {"caf\xe9"}, "set-cookie": {"a=1", "b=2"}, "cookie": {"c=1; d=2"}},
			rawHeaders: []string{"Host", "h", "X-Latin", "caf\xe9", "Set-Cookie", "a=1", "Set-Cookie", "b=2"},
			trailers:   sdk.Headers{}, rawTrailers: []string{},
			body: []byte("{\"json\": \"in a body\"}\n\xf0\x90\x80"), bodyLength: 1 << 40,
		})
	})
	t.Run("an empty request", func(t *testing.T) { requireSameAsEncodingJSON(t, &request{}) })
	t.Run("ten thousand random requests", func(t *testing.T) {
		r := rand.New(rand.NewPCG(12, 34))
		for range 10000 {
			q := &request{
				method: randomString(r), url: randomString(r), httpVersion: randomString(r),
				headers: randomHeaders(r), rawHeaders: randomList(r),
				trailers: randomHeaders(r), rawTrailers: randomList(r),
				body: []byte(randomString(r) + randomString(r)), bodyLength: r.Int64() - r.Int64(),
			}
			requireSameAsEncodingJSON(t, q)
		}
	})
	t.Run("every byte and every pair of bytes in a body and a value", func(t *testing.T) {
		for a := range 256 {
			for b := 0x70; b < 256; b += 3 {
				s := string([]byte{byte(a), byte(b), 'x'})
				requireSameAsEncodingJSON(t, &request{rawHeaders: []string{"x", s}, body: []byte(s)})
			}
		}
	})
}

func FuzzAnswerEncoding(f *testing.F) {
	f.Add("GET", "/", "X-A", "caf\xe9", []byte("\xf0\x90\x80 \xe2\x80\xa8 <&>"))
	f.Add("POST", "/a?b", "set-cookie", "\x00\x7f\xff", []byte("\xed\xa0\x80\xc0\xaf"))
	f.Fuzz(func(t *testing.T, method, url, name, value string, body []byte) {
		requireSameAsEncodingJSON(t, &request{
			method: method, url: url, httpVersion: "1.1",
			headers:    sdk.Headers{name: {value}, "set-cookie": {value, name}, url: {}},
			rawHeaders: []string{name, value}, trailers: sdk.Headers{value: {name}}, rawTrailers: nil,
			body: body, bodyLength: int64(len(body)),
		})
	})
}
