// Package sdk is what a hostd plugin imports. A plugin is an ordinary Go
// program whose main calls Serve with a value that handles one or more of
// Node's http.Server events:
//
//	func main() {
//		sdk.Serve(sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
//			res.SetHeader("Content-Type", "text/plain")
//			res.End([]byte("hello\n"))
//		}))
//	}
//
// hostd starts the program as its own process (through go-plugin), hands
// it the plugin's config table (Configurer), and sends it the events its
// routes select. Request and Response have the API of Node's
// IncomingMessage and ServerResponse: headers are kept locally until
// something is written, errors carry Node's codes (ERR_HTTP_HEADERS_SENT,
// ERR_INVALID_HTTP_TOKEN, …) and are returned at the call site, and hostd
// remains in charge of HTTP framing: the plugin never writes HTTP bytes for
// a request, only its head, body and trailers.
//
// Handlers run concurrently, one goroutine per event. Upgrade and CONNECT
// handlers get the client's socket itself: on Linux hostd passes the file
// descriptor, so the handler's copies run at kernel speed and never cross
// the host.
//
// The package never imports hostd's framework: both sides depend only on
// the protocol package. Test handlers without hostd with sdk/sdktest.
package sdk
