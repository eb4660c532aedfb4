'use strict';
// The example Node worker (examples/workers/node) plus faults for the tests,
// chosen by RPC method: crash, hang, garbage, notjson, badutf8, leak (data {mb}), pid,
// sleep (data {ms}); and by flag: --exit-at-start, --exit-at-start-if=FILE, and --subrefresh-type=T,
// which accepts a subscription refresh only under that exact type name and
// leaves any other spelling unanswered, the way roadrunner-php/centrifugo 2.x
// (T=sub_refresh) and its development line (T=subrefresh) do. Every event is logged to
// stderr ("event <type>"), which spindle app copies into its log.
// Extra arguments (a --marker=… for pgrep) are ignored.
const path = require('path');
const example = path.join(__dirname, '..', '..', 'examples', 'workers', 'node');
const { handlers, rpcMethods, handle } = require(path.join(example, 'worker.js'));
const { serveWorker } = require(path.join(example, 'goridge.js'));

// --exit-at-start-if=FILE: a crash loop a test can start and end (while FILE exists).
const exitIf = (process.argv.find((a) => a.startsWith('--exit-at-start-if=')) || '').split('=')[1];
if (process.argv.includes('--exit-at-start') || (exitIf && require('fs').existsSync(exitIf))) {
  process.stderr.write('fault-worker: exiting at start as asked\n');
  process.exit(1);
}

const data = (req) => (req.data && req.data.length ? JSON.parse(Buffer.from(req.data).toString()) : {});
const reply = (v) => ({ data: Buffer.from(JSON.stringify(v)) });
const leaks = [];

Object.assign(rpcMethods, {
  crash: () => process.exit(3),
  hang: () => new Promise(() => {}),
  garbage: () => {
    process.stdout.write('Notice: a worker that prints to stdout breaks the protocol\n');
    return new Promise(() => {});
  },
  leak: (req) => {
    const mb = Number(data(req).mb || 64);
    leaks.push(Buffer.alloc(mb << 20, 1)); // filled, so the pages are resident
    return reply({ leaked: mb, pid: process.pid });
  },
  pid: () => reply({ pid: process.pid }),
  // Answers a JSON client cannot carry: the server must fail this one call.
  notjson: () => ({ data: Buffer.from('not json at all') }),
  badutf8: () => ({ data: Buffer.concat([Buffer.from('{"x":"'), Buffer.from([0xff]), Buffer.from('"}')]) }),
  sleep: (req) => new Promise((r) => setTimeout(() => r(reply({ slept: data(req).ms, pid: process.pid })), Number(data(req).ms || 0))),
});

const logged = {};
for (const [type, h] of Object.entries(handlers)) {
  logged[type] = (req) => {
    process.stderr.write(`event ${type} user=${req.user || ''} channel=${req.channel || ''}\n`);
    return h(req);
  };
}

// Only this spelling of the subscription refresh is understood, if set.
const strictSubRefresh = (process.argv.find((a) => a.startsWith('--subrefresh-type=')) || '').split('=')[1];

serveWorker((context, body) => {
  const type = (context.type || [])[0];
  if (strictSubRefresh && (type === 'subrefresh' || type === 'sub_refresh') && type !== strictSubRefresh) {
    process.stderr.write(`fault-worker: request type ${type} is not supported\n`);
    return new Promise(() => {}); // as the PHP SDK: an exception, no reply
  }
  return handle(context, body, logged);
});
