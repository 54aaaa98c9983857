package sdk

import (
	"maps"
	"slices"

	"github.com/hostd/hostd/internal/httpspec"
)

// Values Node's http module exports, for plugins (which cannot import
// hostd's internal packages). Each is a copy: changing it changes nothing
// in the SDK or in hostd.

// Methods is Node's http.METHODS: the request methods hostd accepts,
// sorted. A request with another method never reaches a plugin.
var Methods = slices.Clone(httpspec.Methods)

// StatusCodes is Node's http.STATUS_CODES: the standard reason phrase of
// each status code, which a response without its own StatusMessage gets.
var StatusCodes = maps.Clone(httpspec.StatusCodes)

// MaxHeaderSize is Node's http.maxHeaderSize: the default limit, in bytes,
// of a request head (hostd's [server] max_header_size may set another).
const MaxHeaderSize = 16 << 10
