// Package earlyhints is the early-hints plugin: it sends "103 Early Hints"
// with configured Link values, then the final page.
package earlyhints

import (
	"fmt"
	"html"
	"os"
	"sort"
	"strings"

	"github.com/hostd/hostd/sdk"
)

// Config is the plugin's [plugins.NAME.config] table.
type Config struct {
	// Links are the Link values hinted for every path, such as
	// "</style.css>; rel=preload; as=style".
	Links []string `json:"links"`
	// Paths maps a path prefix to its own Links, instead of the default
	// ones; the longest matching prefix wins.
	Paths map[string][]string `json:"paths"`
	// File, when set, is served as the final response instead of the
	// generated page.
	File string `json:"file"`
	// ContentType of File; default text/html.
	ContentType string `json:"content_type"`
}

// EarlyHints is the plugin.
type EarlyHints struct {
	cfg      Config
	prefixes []string // Paths keys, longest first
	file     []byte
}

var (
	_ sdk.RequestHandler = (*EarlyHints)(nil)
	_ sdk.Configurer     = (*EarlyHints)(nil)
)

// New returns the plugin, without links until configured.
func New() *EarlyHints { return &EarlyHints{} }

// Configure reads and checks the config table: every Link value must be
// one Node would send.
func (e *EarlyHints) Configure(c *sdk.Config) error {
	var cfg Config
	if err := c.Decode(&cfg); err != nil {
		return err
	}
	check := func(where string, links []string) error {
		for _, l := range links {
			if !validLink(l) {
				return &sdk.ConfigError{Key: where, Reason: fmt.Sprintf("%q is not a Link value such as \"</style.css>; rel=preload; as=style\"", l)}
			}
		}
		return nil
	}
	if err := check("links", cfg.Links); err != nil {
		return err
	}
	e.prefixes = e.prefixes[:0]
	for p, links := range cfg.Paths {
		if err := check("paths."+p, links); err != nil {
			return err
		}
		e.prefixes = append(e.prefixes, p)
	}
	sort.Slice(e.prefixes, func(i, j int) bool { return len(e.prefixes[i]) > len(e.prefixes[j]) })
	if cfg.File != "" {
		data, err := os.ReadFile(cfg.File)
		if err != nil {
			return &sdk.ConfigError{Key: "file", Reason: err.Error(), Err: err}
		}
		e.file = data
	}
	if cfg.ContentType == "" {
		cfg.ContentType = "text/html; charset=utf-8"
	}
	e.cfg = cfg
	return nil
}

// validLink is a quick check of the shape Node requires, so that a bad
// value is refused at configuration rather than at every request.
func validLink(l string) bool {
	return strings.HasPrefix(l, "<") && strings.Contains(l, ">")
}

// links returns the Link values for a URL.
func (e *EarlyHints) links(url string) []string {
	path, _, _ := strings.Cut(url, "?")
	for _, p := range e.prefixes {
		if strings.HasPrefix(path, p) {
			return e.cfg.Paths[p]
		}
	}
	return e.cfg.Links
}

// HandleRequest sends the hints, when the client can take an
// informational response (HTTP/1.1; an HTTP/1.0 client gets none), then
// the page.
func (e *EarlyHints) HandleRequest(req *sdk.Request, res *sdk.Response) {
	links := e.links(req.URL())
	if len(links) > 0 && req.HTTPVersionMajor() == 1 && req.HTTPVersionMinor() >= 1 {
		hints := make([]string, 0, 2*len(links))
		for _, l := range links {
			hints = append(hints, "Link", l)
		}
		if err := res.WriteEarlyHints(hints...); err != nil {
			sdk.Logger().Warn("early hints refused", "error", err)
		}
	}
	res.SetHeader("Content-Type", e.cfg.ContentType)
	if e.file != nil {
		_ = res.End(e.file)
		return
	}
	_ = res.End([]byte(page(links)))
}

// page is a small HTML page that uses the hinted assets.
func page(links []string) string {
	var b strings.Builder
	b.WriteString("<!doctype html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>hostd early hints</title>\n")
	for _, l := range links {
		target := l[1:strings.IndexByte(l, '>')]
		switch {
		case strings.Contains(l, "as=style"):
			fmt.Fprintf(&b, "<link rel=\"stylesheet\" href=\"%s\">\n", html.EscapeString(target))
		case strings.Contains(l, "as=script"):
			fmt.Fprintf(&b, "<script src=\"%s\" defer></script>\n", html.EscapeString(target))
		default:
			fmt.Fprintf(&b, "<link rel=\"preload\" href=\"%s\">\n", html.EscapeString(target))
		}
	}
	b.WriteString("</head>\n<body>\n<p>hostd hinted this page's assets with 103 Early Hints, to clients that take them.</p>\n</body>\n</html>\n")
	return b.String()
}
