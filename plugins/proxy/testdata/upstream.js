// The Node v20 upstream of the proxy's tests. The test puts before it
// the constants name (how it names itself in its answers), socketPath
// (a Unix socket to listen on, or "" for 127.0.0.1:0) and statsPath (the
// Unix socket of its connection counts). It prints its port (or "0" on a
// Unix socket). The last path segment of a request picks what it does.
const http = require('node:http');

// Connections, counted as the server sees them.
let open = 0, max = 0, total = 0;
// Requests held by /hold until n of them are in flight together.
let held = [];
// The last download: bytes handed to the socket, and whether it waits
// for the reader (the socket's buffer is full).
const download = { sent: 0, stalled: false };

function pattern(i) { return 97 + (i % 26); }

function readBody(req, done) {
  let n = 0, ok = true, chunks = [];
  req.on('data', (d) => {
    for (let i = 0; i < d.length; i++) if (d[i] !== pattern(n + i)) ok = false;
    if (n < 1 << 16) chunks.push(d);
    n += d.length;
  });
  req.on('end', () => done(n, ok, Buffer.concat(chunks).toString('latin1').slice(0, 1 << 16)));
}

function route(req) { return new URL(req.url, 'http://x').pathname.split('/').pop(); }

const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  req.socket.requests = (req.socket.requests || 0) + 1;
  switch (route(req)) {
    case 'echo':
      readBody(req, (n, ok, body) => {
        res.writeHead(200, [
          'Content-Type', 'application/json',
          'Set-Cookie', 'a=1', 'X-A', '1', 'Set-Cookie', 'b=2', 'x-a', '2', 'X-MiXeD', 'm',
          'Connection', 'X-Hop', 'X-Hop', 'secret', 'Keep-Alive', 'timeout=5',
          'Proxy-Connection', 'keep-alive', 'TE', 'trailers', 'Upgrade', 'h2c',
        ]);
        res.end(JSON.stringify({
          name, method: req.method, url: req.url, httpVersion: req.httpVersion,
          rawHeaders: req.rawHeaders, rawTrailers: req.rawTrailers, body, bodyLength: n,
        }));
      });
      return;
    case 'length':
      res.setHeader('Content-Type', 'text/plain');
      res.end('hello');
      return;
    case 'status':
      res.writeHead(Number(u.searchParams.get('code')), { 'X-Status': u.searchParams.get('code'), ETag: '"e"' });
      res.end();
      return;
    case 'upload':
      readBody(req, (n, ok) => res.end(JSON.stringify({ bytes: n, ok })));
      return;
    case 'download': {
      const total = Number(u.searchParams.get('bytes'));
      const piece = Buffer.alloc(1 << 16);
      for (let i = 0; i < piece.length; i++) piece[i] = pattern(i);
      let sent = 0;
      download.sent = 0;
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      const more = () => {
        download.stalled = false;
        while (sent < total) {
          const n = Math.min(piece.length, total - sent);
          sent += n;
          download.sent = sent;
          if (!res.write(n === piece.length ? piece : piece.subarray(0, n))) {
            download.stalled = true;
            return res.once('drain', more);
          }
        }
        res.end();
      };
      more();
      return;
    }
    case 'hints':
      res.writeProcessing();
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style', 'x-hint': 'h' });
      res.end('after hints');
      return;
    case 'trailers':
      readBody(req, (n, ok, body) => {
        res.writeHead(200, { 'Content-Type': 'text/plain', Trailer: 'X-Sum' });
        res.write(JSON.stringify({ body, rawTrailers: req.rawTrailers }));
        res.addTrailers([['X-Sum', 'abc'], ['x-sum', 'def']]);
        res.end();
      });
      return;
    case 'redirect':
      res.writeHead(302, { Location: '/elsewhere', 'WWW-Authenticate': 'Basic realm="r"' });
      res.end('moved');
      return;
    case 'silent':
      return; // never answers
    case 'cut':
      res.writeHead(200, { 'Content-Length': '100' });
      res.write('0123456789', () => req.socket.destroy());
      return;
    case 'cutchunked':
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('0123456789', () => req.socket.destroy());
      return;
    case 'drop':
      // The second request on a connection finds it closed, as when the
      // server closes an idle connection just as the proxy reuses it.
      if (req.socket.requests > 1) return req.socket.destroy();
      res.end(name + ' fresh connection');
      return;
    case 'hold':
      held.push(res);
      if (held.length >= Number(u.searchParams.get('n'))) {
        for (const r of held) r.end('released');
        held = [];
      }
      return;
    default:
      res.writeHead(404);
      res.end();
  }
});

server.on('checkContinue', (req, res) => {
  switch (route(req)) {
    case 'refuse':
      res.writeHead(417);
      res.end();
      return;
    case 'early':
      res.writeHead(403, { 'Content-Type': 'text/plain' });
      res.end('no body wanted');
      return;
  }
  res.writeContinue();
  readBody(req, (n, ok, body) => res.end(JSON.stringify({ continued: true, body, bodyLength: n })));
});

server.on('upgrade', (req, socket, head) => {
  if (route(req) === 'refuse') {
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 7\r\nX-Refused: yes\r\n\r\nrefused');
    return;
  }
  socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: ' + req.headers.upgrade +
    '\r\nConnection: Upgrade\r\nX-Upstream: ' + name + '\r\n\r\n');
  if (head.length) socket.write(head);
  socket.pipe(socket);
});

server.on('connection', (s) => {
  open++; total++; max = Math.max(max, open);
  s.on('close', () => open--);
});

// The counts, on a second server, out of the counted one's way.
const stats = http.createServer((req, res) => res.end(JSON.stringify({ open, max, total, download })));

const ready = () => {
  stats.listen(statsPath, () => process.stdout.write((socketPath ? 0 : server.address().port) + '\n'));
};
if (socketPath) server.listen(socketPath, ready); else server.listen(0, '127.0.0.1', ready);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
