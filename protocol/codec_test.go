package protocol_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/protocol"
)

// The decoders return subslices of the payload, where an empty string may
// be an empty slice rather than nil; the views below compare payloads by
// value.

type requestHeadView struct {
	Event                 protocol.Event
	Flags, Major, Minor   uint8
	Method, URL           string
	Fields                []string
	RemoteAddr, LocalAddr string
	Data, ErrCode         string
	BytesParsed           uint32
}

func viewRequestHead(h *protocol.RequestHead) requestHeadView {
	return requestHeadView{
		Event: h.Event, Flags: h.Flags, Major: h.Major, Minor: h.Minor,
		Method: string(h.Method), URL: string(h.URL), Fields: strs(h.Fields),
		RemoteAddr: string(h.RemoteAddr), LocalAddr: string(h.LocalAddr),
		Data: string(h.Data), ErrCode: string(h.ErrCode), BytesParsed: h.BytesParsed,
	}
}

type responseHeadView struct {
	Status uint16
	Flags  uint8
	Length int64
	Reason string
	Fields []string
}

func viewResponseHead(h *protocol.ResponseHead) responseHeadView {
	return responseHeadView{Status: h.Status, Flags: h.Flags, Length: h.Length, Reason: string(h.Reason), Fields: strs(h.Fields)}
}

type endView struct {
	HasHead  bool
	Head     responseHeadView
	Data     string
	Trailers []string
}

func viewEnd(e *protocol.End) endView {
	v := endView{HasHead: e.HasHead, Data: string(e.Data), Trailers: strs(e.Trailers)}
	if e.HasHead {
		v.Head = viewResponseHead(&e.Head)
	}
	return v
}

func strs(b [][]byte) []string {
	if len(b) == 0 {
		return nil
	}
	out := make([]string, len(b))
	for i := range b {
		out[i] = string(b[i])
	}
	return out
}

func bs(s ...string) [][]byte {
	out := make([][]byte, len(s))
	for i := range s {
		out[i] = []byte(s[i])
	}
	return out
}

// manyFields returns n name/value pairs.
func manyFields(n int) [][]byte {
	f := make([][]byte, 0, 2*n)
	for i := 0; i < n; i++ {
		f = append(f, fmt.Appendf(nil, "X-Field-%d", i), fmt.Appendf(nil, "value %d", i))
	}
	return f
}

var big = bytes.Repeat([]byte("0123456789abcdef"), 64<<10/16) // 64 KiB

func requestHeadCases() []struct {
	name string
	head protocol.RequestHead
} {
	return []struct {
		name string
		head protocol.RequestHead
	}{
		{name: "the zero head round trips", head: protocol.RequestHead{}},
		{name: "a typical request round trips", head: protocol.RequestHead{
			Event: protocol.EventRequest, Flags: protocol.ReqBodyFollows, Major: 1, Minor: 1,
			Method: []byte("POST"), URL: []byte("/upload?x=1"),
			Fields:     bs("Host", "example.com", "Content-Type", "text/plain", "Set-Cookie", "a=1", "set-cookie", "b=2"),
			RemoteAddr: []byte("127.0.0.1:50000"), LocalAddr: []byte("127.0.0.1:8080"),
		}},
		{name: "empty names and values survive", head: protocol.RequestHead{
			Event: protocol.EventRequest, Method: []byte("GET"), URL: []byte("/"),
			Fields: bs("", "", "X-Empty", ""),
		}},
		{name: "a client error keeps its code, packet and count", head: protocol.RequestHead{
			Event: protocol.EventClientError, Flags: protocol.ReqSocketRelay,
			Data: []byte("GARBAGE\r\n\r\n"), ErrCode: []byte("HPE_INVALID_METHOD"), BytesParsed: 3,
		}},
		{name: "large values survive", head: protocol.RequestHead{
			Event: 255, Flags: 255, Major: 255, Minor: 255,
			Method: bytes.Repeat([]byte("M"), 300), URL: big, Data: big,
			Fields:      bs("X-Big", string(big)),
			BytesParsed: math.MaxUint32,
		}},
		{name: "many fields survive", head: protocol.RequestHead{
			Event: protocol.EventUpgrade, Flags: protocol.ReqSocketFD, Major: 1, Minor: 1,
			Method: []byte("GET"), URL: []byte("/ws"), Fields: manyFields(5000), Data: []byte{0, 1, 2, 0xff},
		}},
		{name: "binary bytes survive", head: protocol.RequestHead{
			Method: []byte{0, 0xff, '\r', '\n'}, URL: []byte{0x80}, Fields: bs("\x00", "\xff\xfe"),
		}},
	}
}

func responseHeadCases() []struct {
	name string
	head protocol.ResponseHead
} {
	return []struct {
		name string
		head protocol.ResponseHead
	}{
		{name: "the zero head round trips", head: protocol.ResponseHead{}},
		{name: "no length round trips as -1", head: protocol.ResponseHead{Status: 200, Length: -1}},
		{name: "a typical head round trips", head: protocol.ResponseHead{
			Status: 404, Flags: protocol.HeadNoDate | protocol.HeadExplicit, Length: -1, Reason: []byte("Nope"),
			Fields: bs("Content-Type", "text/plain", "Link", "</a>", "Link", "</b>"),
		}},
		{name: "every flag and a large length survive", head: protocol.ResponseHead{
			Status: math.MaxUint16, Flags: 0x7f, Length: math.MaxInt64 - 1, Reason: big,
		}},
		{name: "many fields survive", head: protocol.ResponseHead{Status: 200, Length: 12, Fields: manyFields(3000)}},
	}
}

func TestRequestHeadRoundTrip(t *testing.T) {
	for _, tc := range requestHeadCases() {
		t.Run(tc.name, func(t *testing.T) {
			p := protocol.AppendRequestHead(nil, &tc.head)
			var got protocol.RequestHead
			require.NoError(t, protocol.DecodeRequestHead(p, &got))
			require.Equal(t, viewRequestHead(&tc.head), viewRequestHead(&got))
		})
	}
}

func TestResponseHeadRoundTrip(t *testing.T) {
	for _, tc := range responseHeadCases() {
		t.Run(tc.name, func(t *testing.T) {
			p := protocol.AppendResponseHead(nil, &tc.head)
			var got protocol.ResponseHead
			require.NoError(t, protocol.DecodeResponseHead(p, &got))
			require.Equal(t, viewResponseHead(&tc.head), viewResponseHead(&got))
		})
	}
}

func endCases() []struct {
	name string
	end  protocol.End
} {
	cases := []struct {
		name string
		end  protocol.End
	}{
		{name: "an empty end round trips", end: protocol.End{}},
		{name: "data alone round trips", end: protocol.End{Data: []byte("hello")}},
		{name: "a request for Finished round trips", end: protocol.End{WantFinished: true, Data: []byte("hello")}},
		{name: "trailers alone round trip", end: protocol.End{Trailers: bs("X-Checksum", "abc", "X-Empty", "")}},
		{name: "a large body round trips", end: protocol.End{Data: big}},
		{name: "many trailers round trip", end: protocol.End{Trailers: manyFields(2000)}},
	}
	for _, h := range responseHeadCases() {
		cases = append(cases, struct {
			name string
			end  protocol.End
		}{name: "with a head: " + h.name, end: protocol.End{HasHead: true, Head: h.head, Data: []byte("body"), Trailers: bs("T", "v")}})
	}
	return cases
}

func TestEndRoundTrip(t *testing.T) {
	for _, tc := range endCases() {
		t.Run(tc.name, func(t *testing.T) {
			p := protocol.AppendEnd(nil, &tc.end)
			var got protocol.End
			require.NoError(t, protocol.DecodeEnd(p, &got))
			require.Equal(t, viewEnd(&tc.end), viewEnd(&got))
		})
	}
}

func TestEndDecodeForgetsAPreviousHead(t *testing.T) {
	var e protocol.End
	p := protocol.AppendEnd(nil, &protocol.End{HasHead: true, Head: protocol.ResponseHead{Status: 201, Length: -1}})
	require.NoError(t, protocol.DecodeEnd(p, &e))
	require.True(t, e.HasHead)
	require.NoError(t, protocol.DecodeEnd(protocol.AppendEnd(nil, &protocol.End{Data: []byte("x")}), &e))
	require.False(t, e.HasHead, "a reused End must not keep the head of the previous frame")
	require.Equal(t, "x", string(e.Data))
}

func TestInfoRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		info protocol.Info
	}{
		{name: "a bare 100 round trips", info: protocol.Info{Status: 100}},
		{name: "early hints keep repeated Link fields apart", info: protocol.Info{Status: 103, Fields: bs("Link", "</a.css>; rel=preload", "Link", "</b.js>; rel=preload")}},
		{name: "many fields round trip", info: protocol.Info{Status: 103, Fields: manyFields(1000)}},
		{name: "the largest status round trips", info: protocol.Info{Status: math.MaxUint16}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := protocol.AppendInfo(nil, &tc.info)
			var got protocol.Info
			require.NoError(t, protocol.DecodeInfo(p, &got))
			require.Equal(t, tc.info.Status, got.Status)
			require.Equal(t, strs(tc.info.Fields), strs(got.Fields))
		})
	}
}

func TestFieldsRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fields [][]byte
	}{
		{name: "no fields round trip", fields: nil},
		{name: "empty names and values round trip", fields: bs("", "")},
		{name: "many fields round trip", fields: manyFields(10000)},
		{name: "a large value round trips", fields: bs("Big", string(big))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := protocol.DecodeFields(protocol.AppendFields(nil, tc.fields))
			require.NoError(t, err)
			require.Equal(t, strs(tc.fields), strs(got))
		})
	}
	t.Run("strings encode as byte slices do", func(t *testing.T) {
		require.Equal(t, protocol.AppendFields(nil, bs("a", "b")), protocol.AppendFields(nil, []string{"a", "b"}))
		require.Equal(t, protocol.AppendString(nil, []byte("abc")), protocol.AppendString(nil, "abc"))
	})
	t.Run("an odd last name is dropped", func(t *testing.T) {
		got, err := protocol.DecodeFields(protocol.AppendFields(nil, []string{"a", "b", "c"}))
		require.NoError(t, err)
		require.Equal(t, []string{"a", "b"}, strs(got))
	})
}

func TestUint32RoundTrip(t *testing.T) {
	for _, v := range []uint32{0, 1, protocol.Window, math.MaxUint32} {
		got, err := protocol.DecodeUint32(protocol.AppendUint32(nil, v))
		require.NoError(t, err)
		require.Equal(t, v, got)
	}
	for _, p := range [][]byte{nil, {1, 2, 3}, {1, 2, 3, 4, 5}} {
		_, err := protocol.DecodeUint32(p)
		require.ErrorIs(t, err, protocol.ErrFrame, "payload %v", p)
	}
}

// decoders decode one payload type, for the tables of malformed input.
var decoders = []struct {
	name   string
	decode func([]byte) error
	valid  []byte
}{
	{"RequestHead", func(p []byte) error { var h protocol.RequestHead; return protocol.DecodeRequestHead(p, &h) },
		protocol.AppendRequestHead(nil, &protocol.RequestHead{Event: 1, Major: 1, Minor: 1, Method: []byte("GET"), URL: []byte("/"), Fields: bs("Host", "h"), RemoteAddr: []byte("r"), LocalAddr: []byte("l"), Data: []byte("d"), ErrCode: []byte("e"), BytesParsed: 300})},
	{"ResponseHead", func(p []byte) error { var h protocol.ResponseHead; return protocol.DecodeResponseHead(p, &h) },
		protocol.AppendResponseHead(nil, &protocol.ResponseHead{Status: 200, Length: 1000, Reason: []byte("OK"), Fields: bs("A", "b")})},
	{"End", func(p []byte) error { var e protocol.End; return protocol.DecodeEnd(p, &e) },
		protocol.AppendEnd(nil, &protocol.End{HasHead: true, Head: protocol.ResponseHead{Status: 200, Length: -1, Fields: bs("A", "b")}, Data: []byte("data"), Trailers: bs("T", "v")})},
	{"Info", func(p []byte) error { var i protocol.Info; return protocol.DecodeInfo(p, &i) },
		protocol.AppendInfo(nil, &protocol.Info{Status: 103, Fields: bs("Link", "</a>")})},
	{"Fields", func(p []byte) error { _, err := protocol.DecodeFields(p); return err },
		protocol.AppendFields(nil, bs("A", "b", "C", "d"))},
}

func TestDecodeRefusesTruncatedInput(t *testing.T) {
	for _, d := range decoders {
		t.Run(d.name+" refuses every proper prefix", func(t *testing.T) {
			require.NoError(t, d.decode(d.valid))
			for n := 0; n < len(d.valid); n++ {
				require.ErrorIs(t, d.decode(d.valid[:n:n]), protocol.ErrFrame, "prefix of %d bytes", n)
			}
		})
	}
}

func TestDecodeRefusesTrailingInput(t *testing.T) {
	for _, d := range decoders {
		t.Run(d.name+" refuses a byte past the end", func(t *testing.T) {
			p := append(append([]byte(nil), d.valid...), 0)
			err := d.decode(p)
			require.ErrorIs(t, err, protocol.ErrFrame)
			require.ErrorContains(t, err, "1 trailing bytes")
		})
	}
}

func TestDecodeRefusesOversizedInput(t *testing.T) {
	uv := func(v uint64) []byte { return binary.AppendUvarint(nil, v) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for _, tc := range []struct {
		name    string
		decode  func([]byte) error
		payload []byte
	}{
		{name: "a string longer than the payload is refused", decode: decoders[0].decode,
			payload: cat([]byte{1, 0, 1, 1}, uv(1000), []byte("GET"))},
		{name: "a string length past 2^63 is refused", decode: decoders[0].decode,
			payload: cat([]byte{1, 0, 1, 1}, uv(math.MaxUint64), []byte("GET"))},
		{name: "a uvarint of more than ten bytes is refused", decode: decoders[4].decode,
			payload: bytes.Repeat([]byte{0xff}, 11)},
		{name: "a field count above what the payload can hold is refused", decode: decoders[4].decode,
			payload: cat(uv(3), uv(1), []byte("a"), uv(1), []byte("b"))},
		{name: "a huge field count is refused", decode: decoders[4].decode,
			payload: cat(uv(math.MaxUint64), []byte{0, 0})},
		{name: "a huge trailer count in an End is refused", decode: decoders[2].decode,
			payload: cat([]byte{0}, uv(0), uv(1<<40))},
		{name: "a bytes-parsed count past 32 bits is refused", decode: decoders[0].decode,
			payload: cat(protocol.AppendRequestHead(nil, &protocol.RequestHead{})[:11], uv(1<<32))},
		{name: "an unknown End flag is refused", decode: decoders[2].decode,
			payload: cat([]byte{4}, uv(0), uv(0))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorIs(t, tc.decode(tc.payload), protocol.ErrFrame)
		})
	}
}

func TestDecodeFieldCountFailsBeforeAllocating(t *testing.T) {
	// A count of 2^20 fields in a 6-byte payload: allocating first would
	// cost 2^21 slice headers (48 MiB).
	p := binary.AppendUvarint(nil, 1<<20)
	p = append(p, 1, 'a', 1, 'b')
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := protocol.DecodeFields(p)
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, err, protocol.ErrFrame)
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "bytes allocated decoding a lying count")
}

func TestDecoderErrorsStick(t *testing.T) {
	t.Run("the first error is the one reported", func(t *testing.T) {
		d := protocol.NewDecoder([]byte{7})
		require.Equal(t, uint16(0), d.Uint16())
		require.Equal(t, byte(0), d.Byte(), "reads after an error return zero values")
		require.Nil(t, d.String())
		require.Nil(t, d.Fields(nil))
		require.Equal(t, uint64(0), d.Uvarint())
		err := d.Done()
		require.ErrorIs(t, err, protocol.ErrFrame)
		require.ErrorContains(t, err, "uint16")
	})
	t.Run("a clean read is done without error", func(t *testing.T) {
		p := protocol.AppendString([]byte{9, 0, 5}, "hi")
		p = protocol.AppendFields(p, []string{"a", "b"})
		d := protocol.NewDecoder(p)
		require.Equal(t, byte(9), d.Byte())
		require.Equal(t, uint16(5), d.Uint16())
		require.Equal(t, "hi", string(d.String()))
		require.Equal(t, []string{"a", "b"}, strs(d.Fields(nil)))
		require.NoError(t, d.Done())
	})
	t.Run("a decoded string cannot grow into the rest of the payload", func(t *testing.T) {
		p := protocol.AppendString(nil, "ab")
		p = append(p, 'Z')
		d := protocol.NewDecoder(p)
		s := d.String()
		_ = append(s, 'X')
		require.Equal(t, byte('Z'), d.Byte())
	})
}

func TestDecodeReusesFieldStorage(t *testing.T) {
	var h protocol.RequestHead
	p := protocol.AppendRequestHead(nil, &protocol.RequestHead{Fields: bs("A", "1", "B", "2")})
	require.NoError(t, protocol.DecodeRequestHead(p, &h))
	first := &h.Fields[:1][0]
	require.NoError(t, protocol.DecodeRequestHead(p, &h))
	require.Same(t, first, &h.Fields[:1][0])
	require.Equal(t, []string{"A", "1", "B", "2"}, strs(h.Fields))
}
