'use strict';
// Test worker for the worker package: speaks goridge v1 over pipes, tcp://
// or unix:// (RR_RELAY) and echoes each request with its body reversed.
// Frames, CRC and relay come from the Node example users copy (no npm
// packages), but the loop is its own: it must break rules the example's
// serveWorker keeps (ignore stop, reply with other contexts, flags or no
// options, stream frames, garbage). Faults are chosen per request by a
// body starting with "cmd:", or for every request/start-up by flags:
//   --exit-at-start            exit(1) before the handshake
//   --exit-at-start-if=FILE    same, only while FILE exists
//   --crash-after=N            exit(3) on request N+1 instead of answering
//   --mode=CMD                 treat every request as body "cmd:CMD"
//   --no-stop                  ignore stop frames (to test the kill path)
//   --stop-once=FILE           answer {"stop":true} if FILE exists (removing it)
// Body commands: hang, crash, garbage, error, stop, pid, leak:MB,
// log:TEXT, sleep:MS, spawn (starts `sleep 60` in our process group and
// answers its pid), env:NAME (answers the variable's value).
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { FLAGS, encodeFrame, frameReader, openRelay } = require(path.join(__dirname, '..', '..', '..', '..', 'examples', 'workers', 'node', 'goridge.js'));

const args = process.argv.slice(2);
const flag = (name) => {
  const a = args.find((x) => x === '--' + name || x.startsWith('--' + name + '='));
  if (a === undefined) return undefined;
  const i = a.indexOf('=');
  return i < 0 ? true : a.slice(i + 1);
};

if (flag('exit-at-start')) {
  process.stderr.write('exiting at start as asked\n');
  process.exit(1);
}
const gate = flag('exit-at-start-if');
if (gate && fs.existsSync(gate)) {
  process.stderr.write('exiting at start: ' + gate + ' exists\n');
  process.exit(1);
}
const crashAfter = flag('crash-after') ? Number(flag('crash-after')) : -1;
const everyMode = flag('mode');
const noStop = !!flag('no-stop');
const stopOnce = flag('stop-once');
function claimStop() {
  try {
    fs.unlinkSync(stopOnce);
    return true;
  } catch (e) {
    return false;
  }
}

const { CONTROL, ERROR } = FLAGS;
// STREAM is a flag in header byte 10, which the example never sets: the
// CRC covers bytes 0..5 only, so it can be set on an encoded frame.
const STREAM = 0x01;

// Opened after the start-up faults above, so those exit before the
// handshake as the tests expect.
const { input, out } = openRelay();
function send(buf) { out.write(buf); }

const leaks = [];
let jobs = 0;

function handle(f) {
  if (f.flags & CONTROL) {
    const msg = JSON.parse(f.payload.toString());
    if (msg.stop) {
      if (noStop) return;
      process.exit(0);
    }
    if (msg.pid) send(encodeFrame(CONTROL, [], Buffer.from(JSON.stringify({ pid: process.pid }))));
    return;
  }
  jobs++;
  if (crashAfter >= 0 && jobs > crashAfter) {
    process.stderr.write('crashing after ' + crashAfter + ' jobs\n');
    process.exit(3);
  }
  const ctxLen = f.options[0];
  const context = f.payload.subarray(0, ctxLen);
  let body = f.payload.subarray(ctxLen).toString();
  if (everyMode && !body.startsWith('cmd:')) body = 'cmd:' + everyMode;
  if (stopOnce && claimStop()) body = 'cmd:stop';
  const reply = (ctx, b) => {
    const c = Buffer.from(ctx);
    send(encodeFrame(0, [c.length], Buffer.concat([c, Buffer.from(b)])));
  };
  if (!body.startsWith('cmd:')) {
    reply(context, body.split('').reverse().join(''));
    return;
  }
  const [cmd, ...rest] = body.slice(4).split(':');
  const arg = rest.join(':');
  switch (cmd) {
    case 'hang':
      return;
    case 'crash':
      process.exit(3);
    case 'garbage':
      send(Buffer.from('Hello from a worker that prints to stdout\n'));
      return;
    case 'error':
      send(encodeFrame(ERROR, [], Buffer.from('boom: ' + (arg || 'worker error'))));
      return;
    case 'stop':
      reply('{"stop":true}', '');
      return;
    case 'stream': {
      const part = encodeFrame(0, [0], Buffer.from('part'));
      part[10] = STREAM;
      send(part);
      return;
    }
    case 'nooptions':
      send(encodeFrame(0, [], Buffer.from('no options')));
      return;
    case 'pid':
      reply(context, String(process.pid));
      return;
    case 'leak': {
      const b = Buffer.alloc(Number(arg) * 1024 * 1024, 1);
      leaks.push(b);
      reply(context, 'leaked ' + arg);
      return;
    }
    case 'log':
      process.stderr.write(arg + '\n');
      reply(context, 'logged');
      return;
    case 'sleep':
      setTimeout(() => reply(context, 'slept ' + arg), Number(arg));
      return;
    case 'spawn': {
      const child = spawn('sleep', ['60'], { stdio: 'ignore' });
      reply(context, String(child.pid));
      return;
    }
    case 'env':
      reply(context, process.env[arg] === undefined ? '<unset>' : process.env[arg]);
      return;
    default:
      send(encodeFrame(ERROR, [], Buffer.from('unknown command ' + cmd)));
  }
}

input.on('data', frameReader(handle));
