// The Node v20 server the client tests talk to. It prints its port, and
// exits when its stdin closes.
const http = require('node:http');
const net = require('node:net');

let connections = 0, open = 0, maxOpen = 0;
const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  const body = [];
  req.on('data', (d) => body.push(d));
  req.on('end', () => {
    const b = Buffer.concat(body).toString();
    switch (u.pathname) {
      case '/hello':
        res.setHeader('X-Mixed-Case', 'v');
        res.setHeader('Set-Cookie', ['a=1', 'b=2']);
        res.end('hello');
        return;
      case '/echo':
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ method: req.method, url: req.url, rawHeaders: req.rawHeaders,
          body: b, trailers: req.rawTrailers }));
        return;
      case '/chunked':
        res.setHeader('Trailer', 'X-Checksum');
        res.write('one,');
        res.write('two,');
        res.addTrailers({ 'X-Checksum': 'abc', 'x-more': 'yes' });
        res.end('three');
        return;
      case '/early':
        res.writeEarlyHints({ link: ['</a.css>; rel=preload; as=style', '</b.js>; rel=preload; as=script'] });
        res.end('after hints');
        return;
      case '/slow':
        setTimeout(() => res.end('slow ' + u.searchParams.get('id')), Number(u.searchParams.get('ms') || 20));
        return;
      case '/stats':
        res.end(JSON.stringify({ connections, maxOpen }));
        connections = 0; maxOpen = open;
        return;
      case '/redirect': {
        const n = Number(u.searchParams.get('n'));
        if (n > 0) {
          res.writeHead(Number(u.searchParams.get('code') || 302), { Location: '/redirect?n=' + (n - 1) + '&code=' + (u.searchParams.get('code') || 302) });
          res.end();
        } else {
          res.end(JSON.stringify({ method: req.method, body: b }));
        }
        return;
      }
      case '/elsewhere':
        res.writeHead(302, { Location: u.searchParams.get('to') });
        res.end();
        return;
      case '/auth': {
        const want = 'Basic ' + Buffer.from('user:pw').toString('base64');
        const proxy = u.searchParams.get('proxy') === '1';
        const got = req.headers[proxy ? 'proxy-authorization' : 'authorization'];
        if (got !== want) {
          res.writeHead(proxy ? 407 : 401, { [proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate']: 'Basic realm="hostd"' });
          res.end('who are you?');
          return;
        }
        res.end('welcome');
        return;
      }
      case '/digest': {
        // RFC 7616 Digest with qop=auth, checked with Node's crypto.
        const alg = u.searchParams.get('alg') || 'MD5';
        const hash = (x) => require('node:crypto').createHash(alg === 'SHA-256' ? 'sha256' : 'md5').update(x).digest('hex');
        const got = req.headers.authorization || '';
        const p = {};
        for (const m of got.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) p[m[1]] = m[2] !== undefined ? m[2] : m[3];
        const ha1 = hash('user:hostd:pw'), ha2 = hash(req.method + ':' + p.uri);
        const ok = got.startsWith('Digest ') && p.nonce === 'n0nce' && p.opaque === 'op' && p.uri === req.url &&
          p.response === hash([ha1, p.nonce, p.nc, p.cnonce, 'auth', ha2].join(':'));
        if (!ok) {
          res.writeHead(401, { 'WWW-Authenticate': ['Basic realm="hostd"', 'Digest realm="hostd", qop="auth", nonce="n0nce", opaque="op", algorithm=' + alg] });
          res.end('digest please');
          return;
        }
        res.end('digest ok');
        return;
      }
      case '/cut':
        res.writeHead(200, { 'Content-Length': '100' });
        res.write('partial');
        setTimeout(() => res.socket.destroy(), 20);
        return;
      case '/hold':
        res.writeHead(200, { 'Content-Length': '100' });
        res.write('partial');
        return; // never ends: the client destroys the request
      default:
        res.statusCode = 404;
        res.end();
    }
  });
});
server.on('connection', (s) => {
  connections++; open++; maxOpen = Math.max(maxOpen, open);
  s.on('close', () => { open--; });
});
server.on('checkContinue', (req, res) => {
  if (req.headers['x-refuse']) {
    res.writeHead(417);
    res.end('refused');
    return;
  }
  res.writeContinue();
  const body = [];
  req.on('data', (d) => body.push(d));
  req.on('end', () => res.end('got ' + Buffer.concat(body).toString()));
});
server.on('upgrade', (req, socket, head) => {
  socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
  if (head.length) socket.write(head);
  socket.pipe(socket);
});
server.on('connect', (req, socket, head) => {
  // The tunnel leads back to this server.
  const up = net.connect(server.address().port, '127.0.0.1', () => {
    socket.write('HTTP/1.1 200 Connection Established\r\nX-Tunnel: yes\r\n\r\n');
    if (head.length) up.write(head);
    up.pipe(socket);
    socket.pipe(up);
  });
  socket.on('error', () => up.destroy());
  up.on('error', () => socket.destroy());
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
