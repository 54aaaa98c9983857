// Package nodeecho holds the echo plugin written as a Node.js v20 request
// handler: the one program that the echo plugin's tests, hostd's parity
// tests and the bench run next to hostd, so that they all compare with
// the same Node code.
package nodeecho

import "strconv"

// Handler returns the handler, a JavaScript arrow function for
// http.createServer: it answers with the request's fields, named as Node
// names them, through JSON.stringify, the body cut at maxBody bytes and
// counted whole. For every request its bytes are the echo plugin's with
// the same max_body (plugins/echo's TestEchoAnswersWithNodesBytes checks
// it against a real Node).
func Handler(maxBody int64) string {
	return `(req, res) => {
  const maxBody = ` + strconv.FormatInt(maxBody, 10) + `;
  const chunks = [];
  let length = 0;
  req.on('data', (chunk) => {
    if (length < maxBody) chunks.push(chunk.subarray(0, maxBody - length));
    length += chunk.length;
  });
  req.on('end', () => {
    const json = JSON.stringify({
      method: req.method, url: req.url, httpVersion: req.httpVersion,
      headers: req.headers, rawHeaders: req.rawHeaders,
      trailers: req.trailers, rawTrailers: req.rawTrailers,
      body: Buffer.concat(chunks).toString('utf8'), bodyLength: length,
    });
    res.setHeader('Content-Type', 'application/json');
    res.end(json);
  });
}`
}

// TestServer returns a Node program that serves Handler(maxBody) with the
// http.createServer options opts (a JavaScript object literal, "{}" for
// none) on a free port of 127.0.0.1, prints the port on its first line,
// and exits when its standard input ends: the shape testutil.StartNode
// runs.
func TestServer(maxBody int64, opts string) string {
	return `'use strict';
const http = require('node:http');
const server = http.createServer(` + opts + `, ` + Handler(maxBody) + `);
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.stdin.on('end', () => process.exit(0)).resume();
`
}
