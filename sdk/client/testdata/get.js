// Gets http://127.0.0.1:PORT/ for each port given as an argument, one
// after the other, and prints one JSON line per request: the status (if a
// response came) and the first error's code and message.
const http = require('node:http');
const ports = process.argv.slice(2);
(async () => {
  for (const port of ports) {
    const out = await new Promise((resolve) => {
      const r = { status: 0, code: '', message: '' };
      const fail = (e) => { if (!r.code) { r.code = e.code || ''; r.message = e.message; } };
      const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        r.status = res.statusCode;
        res.on('error', fail);
        res.on('data', () => {});
      });
      req.on('error', fail);
      req.on('close', () => setImmediate(() => resolve(r)));
    });
    console.log(JSON.stringify(out));
  }
})();
