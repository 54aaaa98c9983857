package echo

import (
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/testutil"
)

// nodeDecode prints, for each hex string of the JSON list on its standard
// input, the hex of the UTF-8 bytes of Buffer.toString(): what a Node
// handler's body.toString() holds.
const nodeDecode = `
let input = '';
process.stdin.on('data', (c) => { input += c; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).map((h) => Buffer.from(Buffer.from(h, 'hex').toString('utf8'), 'utf8').toString('hex'));
  process.stdout.write(JSON.stringify(out));
});
`

// illFormed are sequences around every boundary of UTF-8's well-formed
// byte table (Unicode 15, table 3-7), and Unicode's own example of
// maximal subparts.
var illFormed = []string{
	"\x80", "\xbf", "\x80\x80", "\xc0\x80", "\xc1\xbf", "\xc2", "\xc2\x41", "\xc2\xc2\x80", "\xdf\xc0",
	"\xe0\x80\x80", "\xe0\x9f\xbf", "\xe0\xa0", "\xe0\xa0\x41", "\xe1\x80", "\xe1\x80\xc0", "\xec\xbf",
	"\xed\x80", "\xed\xa0\x80", "\xed\xbf\xbf", "\xee\x80", "\xef\xbf", "\xef\xbf\xc0",
	"\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf", "\xf0\x90", "\xf0\x90\x80", "\xf0\x90\x80\x41", "\xf0\x90\x41\x80",
	"\xf1\x80\x80", "\xf3\xbf\xbf", "\xf4\x8f\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf7\xbf\xbf\xbf",
	"\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80", "\xfe", "\xff", "\xfe\xfe\xff\xff",
	"\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64",
	// well-formed, for contrast
	"a", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbd",
	"\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "\xe2\x80\xa8", "\xe2\x80\xa9",
}

// Issue 12 item 6: the echo plugin shows a body as a Node handler's
// toString() does, byte for byte, on every boundary of UTF-8 and on
// random byte strings.
func TestBodyDecodesAsNodeDoes(t *testing.T) {
	inputs := append([]string(nil), illFormed...)
	r := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		b := make([]byte, 1+r.IntN(8))
		for i := range b {
			b[i] = byte(0x70 + r.IntN(0x90)) // mostly above 0x7F
		}
		inputs = append(inputs, string(b))
	}
	hexes := make([]string, len(inputs))
	for i, s := range inputs {
		hexes[i] = hex.EncodeToString([]byte(s))
	}
	in, err := json.Marshal(hexes)
	require.NoError(t, err)
	var node []string
	require.NoError(t, json.Unmarshal(testutil.RunNode(t, nodeDecode, string(in)), &node))
	require.Len(t, node, len(inputs))
	for i, s := range inputs {
		var ours string
		require.NoError(t, json.Unmarshal(appendUTF8(nil, []byte(s)), &ours))
		require.Equal(t, node[i], hex.EncodeToString([]byte(ours)), "the body %q", s)
	}
}

// Go's strings.ToValidUTF8 and utf8.DecodeRune are not WHATWG's decoding:
// the first replaces a whole run of bad bytes with one U+FFFD, the second
// reports each bad byte. The echo would differ from Node with either.
func TestWHATWGIsNeitherOfGosDecodings(t *testing.T) {
	var ours string
	require.NoError(t, json.Unmarshal(appendUTF8(nil, []byte("\xf0\x90\x80\xff")), &ours))
	require.Equal(t, "\uFFFD\uFFFD", ours, "one for the truncated sequence, one for the lone byte")
}
