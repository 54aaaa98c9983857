// llhttp_harness.js runs HTTP messages through Node's own parser (llhttp,
// through the internal http_parser binding, in its default strict mode)
// and prints what it saw in the event-log format of the golden files
// (see README.md). The differential test writes it to a temporary
// directory and runs it once with every case.
//
// stdin:  {"cases": [{"kind": "request"|"response", "raw": base64, "max": n?}]}
// stdout: [{"log": ["method GET", ...], "offset": bytesParsed|-1}]
'use strict';

const { HTTPParser, allMethods } = process.binding('http_parser');

// esc writes bytes (a latin1 string) with the escapes of testdata/README.md.
function esc(s) {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c) out += '\\\\';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x20 && (i === 0 || i === s.length - 1)) out += '\\x20';
    else if (c > 0x20 && c < 0x7f || c === 0x20) out += s[i];
    else out += '\\x' + c.toString(16).padStart(2, '0');
  }
  return out;
}

// line is "key value", or just "key" for an empty value.
function line(key, value) {
  return value === '' ? key : `${key} ${value}`;
}

function field(kind, name, value) {
  return line(`${kind} ${esc(name)}:`, esc(value));
}

// One parser, initialized again for each case: creating parsers costs
// more than parsing.
const p = new HTTPParser();
const resource = {};

function run(kind, raw, max) {
  p.initialize(kind === 'response' ? HTTPParser.RESPONSE : HTTPParser.REQUEST, resource, max, 0);
  const log = [];
  let inMessage = false, headersDone = false, upgraded = false;
  let headers = [], url = '', trailers = [], body = [];

  const flushBody = () => {
    if (body.length > 0) log.push('body ' + esc(Buffer.concat(body).toString('latin1')));
    body = [];
  };
  p[HTTPParser.kOnMessageBegin] = () => {
    inMessage = true; headersDone = false;
    headers = []; url = ''; trailers = []; body = [];
  };
  p[HTTPParser.kOnHeaders] = (h, u) => {
    if (headersDone) trailers.push(...h);
    else { headers.push(...h); url += u || ''; }
  };
  p[HTTPParser.kOnHeadersComplete] = (major, minor, h, method, u, status, reason, upgrade, keepAlive) => {
    if (h !== undefined) headers.push(...h);
    if (u !== undefined) url += u;
    if (kind === 'response') {
      log.push(`status ${status}`, line('reason', esc(reason || '')));
    } else {
      log.push(`method ${allMethods[method]}`, line('url', esc(url)));
    }
    log.push(`version ${major}.${minor}`);
    for (let i = 0; i < headers.length; i += 2) log.push(field('header', headers[i], headers[i + 1]));
    log.push(`keep-alive ${keepAlive}`);
    if (upgrade) log.push('upgrade true');
    upgraded = upgrade || (kind === 'response' && status === 101);
    headersDone = true;
    return 0;
  };
  p[HTTPParser.kOnBody] = (b) => { body.push(Buffer.from(b)); };
  p[HTTPParser.kOnMessageComplete] = () => {
    flushBody();
    for (let i = 0; i < trailers.length; i += 2) log.push(field('trailer', trailers[i], trailers[i + 1]));
    log.push('complete');
    inMessage = false;
  };

  const r = p.execute(raw);
  if (r instanceof Error) {
    if (inMessage && headersDone) flushBody();
    log.push(`error ${r.code} at ${r.bytesParsed}`);
    return { log, offset: r.bytesParsed };
  }
  if (upgraded && inMessage && r < raw.length) {
    // Node's binding drops a parse error once the upgrade flag is set
    // (node_http_parser.cc: `if (!parser_.upgrade && err != HPE_OK)`):
    // execute returns the error's position as if the rest were tunnel
    // data. (An error at the very end of the input looks like an
    // incomplete message.)
    flushBody();
    log.push(`error ignored for upgrade at ${r}`);
    return { log, offset: r };
  }
  if (!upgraded || inMessage) {
    const f = p.finish();
    if (inMessage) {
      if (headersDone) flushBody();
      log.push('incomplete');
    } else if (f instanceof Error) {
      log.push(`error ${f.code} at ${f.bytesParsed}`);
    }
  }
  return { log, offset: -1 };
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const { cases } = JSON.parse(input);
  const out = cases.map((c) => run(c.kind, Buffer.from(c.raw, 'base64'), c.max || 16384));
  process.stdout.write(JSON.stringify(out));
});
