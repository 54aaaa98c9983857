package http1

import "errors"

// ErrNeedMore is returned by the parsers when the buffer ends before the
// message part being parsed does; call again with more bytes.
var ErrNeedMore = errors.New("http1: need more data")

// ParseError is a refusal of malformed input. Code is llhttp's error code
// for the same input, Reason its message, and Offset how many bytes of the
// buffer were accepted before the error (Node's bytesParsed).
type ParseError struct {
	Code   string
	Reason string
	Offset int
}

func (e *ParseError) Error() string { return "http1: " + e.Reason + " (" + e.Code + ")" }

// Is matches another *ParseError with the same Code, so the sentinels
// below work with errors.Is.
func (e *ParseError) Is(target error) bool {
	t, ok := target.(*ParseError)
	return ok && t.Code == e.Code
}

// StatusCode is the status Node's default clientError handler answers
// with: 431 for a header overflow, 413 for oversized chunk extensions, 400
// for everything else.
func (e *ParseError) StatusCode() int {
	switch e.Code {
	case ErrHeaderOverflow.Code:
		return 431
	case ErrChunkExtensionsOverflow.Code:
		return 413
	}
	return 400
}

// Sentinels for errors.Is, one per llhttp code the parser produces.
var (
	ErrInvalidMethod           = &ParseError{Code: "HPE_INVALID_METHOD"}
	ErrInvalidURL              = &ParseError{Code: "HPE_INVALID_URL"}
	ErrInvalidConstant         = &ParseError{Code: "HPE_INVALID_CONSTANT"}
	ErrInvalidVersion          = &ParseError{Code: "HPE_INVALID_VERSION"}
	ErrInvalidStatus           = &ParseError{Code: "HPE_INVALID_STATUS"}
	ErrInvalidHeaderToken      = &ParseError{Code: "HPE_INVALID_HEADER_TOKEN"}
	ErrUnexpectedSpace         = &ParseError{Code: "HPE_UNEXPECTED_SPACE"}
	ErrCRExpected              = &ParseError{Code: "HPE_CR_EXPECTED"}
	ErrLFExpected              = &ParseError{Code: "HPE_LF_EXPECTED"}
	ErrStrict                  = &ParseError{Code: "HPE_STRICT"}
	ErrInvalidContentLength    = &ParseError{Code: "HPE_INVALID_CONTENT_LENGTH"}
	ErrUnexpectedContentLength = &ParseError{Code: "HPE_UNEXPECTED_CONTENT_LENGTH"}
	ErrInvalidTransferEncoding = &ParseError{Code: "HPE_INVALID_TRANSFER_ENCODING"}
	ErrInvalidChunkSize        = &ParseError{Code: "HPE_INVALID_CHUNK_SIZE"}
	ErrHeaderOverflow          = &ParseError{Code: "HPE_HEADER_OVERFLOW"}
	ErrChunkExtensionsOverflow = &ParseError{Code: "HPE_CHUNK_EXTENSIONS_OVERFLOW"}
	ErrInvalidEOFState         = &ParseError{Code: "HPE_INVALID_EOF_STATE"}
	ErrH2Preface               = &ParseError{Code: "HPE_PAUSED_H2_UPGRADE"}
)

// fail returns a new ParseError with sentinel's code.
func fail(sentinel *ParseError, reason string, offset int) *ParseError {
	return &ParseError{Code: sentinel.Code, Reason: reason, Offset: offset}
}

// Reasons of the refusals where hostd is deliberately stricter than
// llhttp. Each is a message llhttp accepts:
const (
	// A head or trailer section longer than RawHeadLimit: llhttp counts
	// neither whitespace nor line ends nor empty lines before a start
	// line, so it takes any amount of them, but hostd keeps a head in its
	// buffer until it is complete and must bound it.
	reasonHeadTooLarge = "Head too large"
	// RTSP/x.y requests with RTSP's own methods (DESCRIBE, PLAY, ...),
	// and HTTP/0.9 requests whose method is not in http.METHODS (RTSP
	// methods, PRI): llhttp takes them, but they are not HTTP and no
	// handler could tell them apart. (RTSP and ICE requests with a method
	// of http.METHODS are taken, as llhttp does.)
	reasonNotHTTP       = "Expected HTTP/"
	reasonNotHTTPMethod = "Method not in http.METHODS"
	// An empty authority-form target ("CONNECT \r\n"), which llhttp takes
	// as an HTTP/0.9 CONNECT to nowhere.
	reasonEmptyTarget = "Empty request-target"
	// An HTTP/0.9 request line ended by a bare LF: bare LF is refused
	// everywhere else (newer llhttp refuses it here too).
	reasonBareLF = "Missing expected CR after request line"
	// A Content-Length above 2^63-1: llhttp takes up to 2^64-1, but
	// Head.ContentLength is an int64 and no body is that long.
	reasonContentLengthTooLarge = "Content-Length too large"
	// Transfer-Encoding in a response's trailers: llhttp refuses it in a
	// request's, takes it in a response's; a trailer cannot change the
	// framing of the body it ends, and the decoder does not know which it
	// reads.
	reasonTrailerTE = "Transfer-Encoding in trailers"
	// A status line ended by two CRs: llhttp 9.3 takes the second one as
	// the LF. A bare CR is refused everywhere else, and later llhttp
	// versions refuse it here too.
	reasonStatusLineCR = "Expected LF after CR in status line"
	// A Connection option (close, keep-alive, upgrade) or a final
	// "chunked" followed by trailing whitespace with a tab: llhttp reads
	// neither as the option or the coding, but the value it reports,
	// trimmed, says the opposite (see fieldScanner.ambiguity).
	reasonTabAfterConnectionOption = "Tab after a Connection option"
	reasonTabAfterChunked          = "Tab after chunked"
)

// Not listed, because it is Node's binding and not llhttp: Node ignores a
// parse error in the body of an upgrade request and hands the bytes from
// the error on to its 'upgrade' handler; the ChunkedDecoder refuses such
// a body as any other (golden case pipelining/upgrade_with_bad_body).

// stricterReasons lists them for the differential test.
var stricterReasons = []string{
	reasonHeadTooLarge, reasonNotHTTP, reasonNotHTTPMethod, reasonEmptyTarget,
	reasonBareLF, reasonContentLengthTooLarge, reasonTrailerTE, reasonStatusLineCR,
	reasonTabAfterConnectionOption, reasonTabAfterChunked,
}
