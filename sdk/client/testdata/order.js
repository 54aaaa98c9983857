// Runs the cases of Node's documented event order against the test's
// servers and prints, per case, one JSON line: {name, events}.
// Arguments: the port of server.js, of a server that closes the
// connection after the request, and of a port nobody listens on.
const http = require('node:http');
const [port, hangPort, refusedPort] = process.argv.slice(2).map(Number);

function run(name, opts, hooks = {}) {
  return new Promise((done) => {
    const ev = [];
    const add = (e) => ev.push(e);
    const req = http.request({ host: '127.0.0.1', port, agent: new http.Agent({ keepAlive: true }), ...opts });
    req.on('socket', () => { add('socket'); if (hooks.socket) hooks.socket(req); });
    req.on('finish', () => add('finish'));
    req.on('response', (res) => {
      add('response');
      res.on('aborted', () => add('res aborted'));
      res.on('error', (e) => add('res error ' + e.code + ' ' + e.message));
      res.on('end', () => add('res end'));
      res.on('close', () => add('res close'));
      res.on('data', () => {});
      if (hooks.response) hooks.response(req, res);
    });
    req.on('abort', () => add('abort'));
    req.on('error', (e) => add('error ' + e.code + ' ' + e.message));
    req.on('timeout', () => { add('timeout'); req.destroy(); });
    req.on('close', () => {
      add('close');
      setTimeout(() => { console.log(JSON.stringify({ name, events: ev })); done(); }, 50);
    });
    req.end();
  });
}

(async () => {
  await run('success', { path: '/hello' });
  await run('connection error', { port: refusedPort });
  await run('closed before the response', { port: hangPort });
  await run('closed after the response', { path: '/cut' });
  await run('destroy before the connection succeeds', { path: '/hello' }, { socket: (r) => r.destroy() });
  await run('destroy after the response', { path: '/hold' }, { response: (r) => r.destroy() });
  await run('abort before the connection succeeds', { path: '/hello' }, { socket: (r) => r.abort() });
  await run('abort after the response', { path: '/hold' }, { response: (r) => r.abort() });
  await run('timeout notifies only', { path: '/hold', timeout: 30 });
  await run('upgrade without a handler closes the connection', { path: '/ws', headers: { Connection: 'Upgrade', Upgrade: 'echo' } });
  process.exit(0);
})();
