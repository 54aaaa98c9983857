package client

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strings"

	"github.com/hostd/hostd/internal/httpspec"
)

// challenge is one WWW-Authenticate or Proxy-Authenticate challenge.
type challenge struct {
	scheme string            // lower case: "basic" or "digest"
	params map[string]string // lower-case names, unquoted values
}

// pickChallenge returns the strongest challenge the client can answer:
// Digest (MD5 or SHA-256, qop auth or none) before Basic.
func pickChallenge(values []string) (challenge, bool) {
	var basic *challenge
	for _, v := range values {
		for _, c := range parseChallenges(v) {
			switch c.scheme {
			case "digest":
				if digestHash(c.params["algorithm"]) != nil && (c.params["qop"] == "" || hasToken(c.params["qop"], "auth")) {
					return c, true
				}
			case "basic":
				if basic == nil {
					b := c
					basic = &b
				}
			}
		}
	}
	if basic != nil {
		return *basic, true
	}
	return challenge{}, false
}

// parseChallenges reads a challenge list: scheme, then name=value
// parameters (values quoted or not) separated by commas; a token that is
// not followed by '=' starts the next challenge.
func parseChallenges(v string) []challenge {
	var out []challenge
	s := v
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return out
		}
		i := 0
		for i < len(s) && httpspec.IsTokenChar(s[i]) {
			i++
		}
		if i == 0 {
			return out // not a challenge list we understand
		}
		tok := s[:i]
		rest := strings.TrimLeft(s[i:], " \t")
		if strings.HasPrefix(rest, "=") && len(out) > 0 {
			// A parameter of the current challenge.
			val, after := paramValue(strings.TrimLeft(rest[1:], " \t"))
			out[len(out)-1].params[httpspec.ToLower(tok)] = val
			s = after
			continue
		}
		out = append(out, challenge{scheme: httpspec.ToLower(tok), params: map[string]string{}})
		s = rest
	}
}

// paramValue reads a token or quoted-string and returns it and the rest.
func paramValue(s string) (string, string) {
	if strings.HasPrefix(s, `"`) {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '\\':
				if i+1 < len(s) {
					i++
					b.WriteByte(s[i])
				}
			case '"':
				return b.String(), s[i+1:]
			default:
				b.WriteByte(s[i])
			}
		}
		return b.String(), ""
	}
	i := 0
	for i < len(s) && s[i] != ',' && s[i] != ' ' && s[i] != '\t' {
		i++
	}
	return s[:i], s[i:]
}

func hasToken(list, token string) bool {
	for _, t := range strings.Split(list, ",") {
		if httpspec.EqualFoldASCII(strings.TrimSpace(t), token) {
			return true
		}
	}
	return false
}

// digestHash returns the hash of a Digest algorithm (RFC 7616): MD5 (the
// default) or SHA-256; nil for one the client does not know.
func digestHash(algorithm string) func() hash.Hash {
	switch {
	case algorithm == "", httpspec.EqualFoldASCII(algorithm, "md5"):
		return md5.New
	case httpspec.EqualFoldASCII(algorithm, "sha-256"):
		return sha256.New
	}
	return nil
}

// credentials answers challenge c for a request with method and uri.
func (c challenge) credentials(method, uri, user, pass string) string {
	if c.scheme == "basic" {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	newHash := digestHash(c.params["algorithm"])
	h := func(s string) string {
		d := newHash()
		d.Write([]byte(s))
		return hex.EncodeToString(d.Sum(nil))
	}
	realm, nonce := c.params["realm"], c.params["nonce"]
	ha1 := h(user + ":" + realm + ":" + pass)
	ha2 := h(method + ":" + uri)
	var b strings.Builder
	b.WriteString(`Digest username="` + quote(user) + `", realm="` + quote(realm) + `", nonce="` + quote(nonce) +
		`", uri="` + quote(uri) + `"`)
	if alg := c.params["algorithm"]; alg != "" {
		b.WriteString(", algorithm=" + alg)
	}
	if c.params["qop"] != "" {
		var raw [12]byte
		_, _ = rand.Read(raw[:])
		cnonce, nc := hex.EncodeToString(raw[:]), "00000001"
		b.WriteString(`, qop=auth, nc=` + nc + `, cnonce="` + cnonce + `"`)
		b.WriteString(`, response="` + h(ha1+":"+nonce+":"+nc+":"+cnonce+":auth:"+ha2) + `"`)
	} else {
		b.WriteString(`, response="` + h(ha1+":"+nonce+":"+ha2) + `"`)
	}
	if o, ok := c.params["opaque"]; ok {
		b.WriteString(`, opaque="` + quote(o) + `"`)
	}
	return b.String()
}

func quote(s string) string { return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) }
