// Process helpers for the proxy and cluster scenarios: the Go example app
// (goapp), redis-server, and a scripted proxy backend written here from the
// spec (§2.2, §2.5) that answers over gRPC and over the HTTP JSON variant.
// Every child process gets a watchdog, so none outlives the test process —
// even when Node itself is killed.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

import { E2E_DIR, freePort, sleep } from './helpers.mjs';

/** The example app binary: GOAPP_BIN or ../bin/goapp next to e2e/. */
export const GOAPP_BIN = path.resolve(E2E_DIR, process.env.GOAPP_BIN || '../bin/goapp');

/** Per-test options for these files: every scenario is bounded at 30 s. */
export const T30 = { timeout: 30000 };

// ---------------------------------------------------------------------------
// Child processes.

const live = new Set();
process.on('exit', () => {
  for (const p of live) {
    try { process.kill(p.child.pid, 'SIGKILL'); } catch { /* gone */ }
  }
});

/** A shell that kills `pid` when our end of its stdin pipe closes (we died). */
function watchdog(pid) {
  const dog = spawn('sh', ['-c', `cat >/dev/null; kill -9 ${pid} 2>/dev/null; exit 0`], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  dog.unref();
  dog.stdin.on('error', () => {});
  if (typeof dog.stdin.unref === 'function') dog.stdin.unref();
  return () => { try { dog.stdin.end(); } catch { /* closed */ } };
}

/**
 * A child process with its combined output kept for assertions and failure
 * messages. stop() is idempotent and never leaves the process behind.
 */
export class Proc {
  constructor(name, cmd, args, { env, cwd } = {}) {
    this.name = name;
    this.output = [];
    this.exited = null;
    this.child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, cwd });
    live.add(this);
    this.release = watchdog(this.child.pid);
    const onData = (d) => {
      const s = d.toString();
      this.output.push(s);
      if (process.env.E2E_SERVER_LOG) process.stderr.write(`[${name}] ${s}`);
    };
    this.child.stdout.on('data', onData);
    this.child.stderr.on('data', onData);
    this.exitPromise = new Promise((resolve) => {
      const gone = (exited) => {
        if (this.exited) return;
        this.exited = exited;
        live.delete(this);
        this.release();
        resolve(this.exited);
      };
      this.child.on('exit', (code, signal) => gone({ code, signal }));
      // A program that is not installed never starts, so it never exits
      // either: count the failed spawn as its exit, or kill() would wait
      // for ever instead of the test failing with the reason.
      this.child.on('error', (e) => {
        this.output.push(`spawn error: ${e.message}\n`);
        if (this.child.pid === undefined) gone({ code: null, signal: null, error: e.message });
      });
    });
  }

  /** All output so far as one string. */
  text() { return this.output.join(''); }

  /** Last n lines of output, for failure messages. */
  tail(n = 30) { return this.text().split('\n').slice(-n).join('\n'); }

  /** Hard kill (SIGKILL) and wait until the process is gone. */
  async kill() { return this.stop('SIGKILL'); }

  /** Sends `signal`, escalates to SIGKILL after 3 s, waits for the exit. */
  async stop(signal = 'SIGTERM') {
    if (!this.exited) {
      try { this.child.kill(signal); } catch { /* gone */ }
      const t = setTimeout(() => { try { this.child.kill('SIGKILL'); } catch { /* gone */ } }, 3000);
      await this.exitPromise;
      clearTimeout(t);
    }
    this.release();
  }
}

/** Resolves once 127.0.0.1:port accepts a TCP connection; rejects after `timeout` ms. */
export async function waitTcp(port, { timeout = 8000, proc } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (proc?.exited) throw new Error(`${proc.name} exited (${JSON.stringify(proc.exited)}) before listening on ${port}:\n${proc.tail()}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeout} ms${proc ? `:\n${proc.tail()}` : ''}`);
    await sleep(30);
  }
}

// ---------------------------------------------------------------------------
// goapp.

/**
 * Builds goapp when its binary is missing (`make e2e` builds only spindle), so
 * the files that need it can run from a fresh checkout. Call once at the top
 * of such a file; the Go build cache makes it quick after the first time.
 */
export async function ensureGoapp() {
  if (fs.existsSync(GOAPP_BIN) || process.env.GOAPP_BIN) return;
  const proc = new Proc('go build goapp', 'go', ['build', '-o', GOAPP_BIN, './examples/goapp'], { cwd: path.resolve(E2E_DIR, '..') });
  const timer = setTimeout(() => proc.kill(), 180000);
  const { code } = await proc.exitPromise;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`go build ./examples/goapp failed (exit ${code}):\n${proc.tail()}`);
}

/**
 * Starts `goapp -proxy tcp://127.0.0.1:<port>` (port picked unless given) and
 * waits until it listens. The returned Proc has port, grpc (endpoint string)
 * and http(event) (the HTTP proxy URL of one event).
 */
export async function startGoapp({ port } = {}) {
  if (!fs.existsSync(GOAPP_BIN)) throw new Error(`goapp binary not found at ${GOAPP_BIN} (go build -o bin/goapp ./examples/goapp)`);
  const p = port || await freePort();
  const proc = new Proc(`goapp:${p}`, GOAPP_BIN, ['-proxy', `tcp://127.0.0.1:${p}`]);
  proc.port = p;
  proc.grpc = `grpc://127.0.0.1:${p}`;
  proc.http = (event) => `http://127.0.0.1:${p}/${event}`;
  try {
    await waitTcp(p, { proc });
  } catch (e) {
    await proc.kill();
    throw e;
  }
  return proc;
}

/** The events goapp logged ("event type=rpc …" lines), as [{type, user, denied}]. */
export function goappEvents(proc) {
  const out = [];
  for (const line of proc.text().split('\n')) {
    if (!line.includes('msg=event')) continue;
    const f = (k) => (line.match(new RegExp(`\\b${k}=(\\S*)`)) || [])[1];
    out.push({ type: f('type'), user: f('user'), denied: f('denied') === 'true' });
  }
  return out;
}

// ---------------------------------------------------------------------------
// redis-server.

/** Sends PING and resolves true on +PONG. */
function redisPing(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    const done = (v) => { s.destroy(); resolve(v); };
    s.setTimeout(500, () => done(false));
    s.once('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => { buf += d; if (buf.includes('\r\n')) done(buf.startsWith('+PONG')); });
    s.once('error', () => done(false));
  });
}

/**
 * Starts a throwaway redis-server on 127.0.0.1 (port picked unless given;
 * pass the old port to restart "the same" Redis), without persistence.
 * The returned Proc has port and address (redis://127.0.0.1:<port>).
 */
export async function startRedis({ port } = {}) {
  const p = port || await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spindle-redis-'));
  const proc = new Proc(`redis:${p}`, 'redis-server', [
    '--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning',
  ]);
  proc.port = p;
  proc.address = `redis://127.0.0.1:${p}`;
  proc.exitPromise.then(() => fs.rmSync(dir, { recursive: true, force: true }));
  const deadline = Date.now() + 8000;
  while (!(await redisPing(p))) {
    if (proc.exited || Date.now() > deadline) {
      await proc.kill();
      throw new Error(`redis-server on ${p} did not answer PING:\n${proc.tail()}`);
    }
    await sleep(30);
  }
  return proc;
}

// ---------------------------------------------------------------------------
// A scripted proxy backend. The schema below is written from the spec's field
// tables (§2.2), independently of the server's .proto.

const PROXY_SCHEMA = `
syntax = "proto3";
package centrifugal.centrifugo.proxy;
message Error { uint32 code = 1; string message = 2; bool temporary = 3; }
message Disconnect { uint32 code = 1; string reason = 2; }
message BoolValue { bool value = 1; }
message SubscribeOptionOverride { BoolValue presence = 1; BoolValue join_leave = 2; BoolValue force_recovery = 3; BoolValue force_positioning = 4; BoolValue force_push_join_leave = 5; }
message SubscribeOptions { int64 expire_at = 1; bytes info = 2; string b64info = 3; bytes data = 4; string b64data = 5; SubscribeOptionOverride override = 6; }
message ConnectRequest { string client = 1; string transport = 2; string protocol = 3; string encoding = 4;
  bytes data = 10; string b64data = 11; string name = 12; string version = 13; repeated string channels = 14; }
message ConnectResult { string user = 1; int64 expire_at = 2; bytes info = 3; string b64info = 4; bytes data = 5; string b64data = 6;
  repeated string channels = 7; map<string, SubscribeOptions> subs = 8; bytes meta = 9; }
message ConnectResponse { ConnectResult result = 1; Error error = 2; Disconnect disconnect = 3; }
message RefreshRequest { string client = 1; string transport = 2; string protocol = 3; string encoding = 4; string user = 10; bytes meta = 11; }
message RefreshResult { bool expired = 1; int64 expire_at = 2; bytes info = 3; string b64info = 4; bytes meta = 5; }
message RefreshResponse { RefreshResult result = 1; Error error = 2; Disconnect disconnect = 3; }
message SubscribeRequest { string client = 1; string transport = 2; string protocol = 3; string encoding = 4;
  string user = 10; string channel = 11; string token = 12; bytes meta = 13; bytes data = 14; string b64data = 15; }
message SubscribeResult { int64 expire_at = 1; bytes info = 2; string b64info = 3; bytes data = 4; string b64data = 5; SubscribeOptionOverride override = 6; }
message SubscribeResponse { SubscribeResult result = 1; Error error = 2; Disconnect disconnect = 3; }
message PublishRequest { string client = 1; string transport = 2; string protocol = 3; string encoding = 4;
  string user = 10; string channel = 11; bytes data = 12; string b64data = 13; bytes meta = 14; }
message PublishResult { bytes data = 1; string b64data = 2; bool skip_history = 3; }
message PublishResponse { PublishResult result = 1; Error error = 2; Disconnect disconnect = 3; }
message RPCRequest { string client = 1; string transport = 2; string protocol = 3; string encoding = 4;
  string user = 10; string method = 11; bytes data = 12; string b64data = 13; bytes meta = 14; }
message RPCResult { bytes data = 1; string b64data = 2; }
message RPCResponse { RPCResult result = 1; Error error = 2; Disconnect disconnect = 3; }
message SubRefreshRequest { string client = 1; string transport = 2; string protocol = 3; string encoding = 4;
  string user = 10; string channel = 11; bytes meta = 12; }
message SubRefreshResult { bool expired = 1; int64 expire_at = 2; bytes info = 3; string b64info = 4; }
message SubRefreshResponse { SubRefreshResult result = 1; Error error = 2; Disconnect disconnect = 3; }
`;
const root = protobuf.parse(PROXY_SCHEMA, { keepCase: true }).root;
const PT = (name) => root.lookupType(`centrifugal.centrifugo.proxy.${name}`);

/** Proxied event → [gRPC method, message prefix]; the HTTP path is the event name. */
export const EVENTS = {
  connect: ['Connect', 'Connect'],
  refresh: ['Refresh', 'Refresh'],
  subscribe: ['Subscribe', 'Subscribe'],
  publish: ['Publish', 'Publish'],
  rpc: ['RPC', 'RPC'],
  sub_refresh: ['SubRefresh', 'SubRefresh'],
};

const JSON_BYTES = new Set(['data', 'info', 'meta']);

/** Raw JSON bytes of a gRPC request → parsed values, so handlers see what the HTTP variant sends. */
function bytesToJSON(obj) {
  for (const k of Object.keys(obj)) {
    if (JSON_BYTES.has(k) && obj[k] instanceof Uint8Array) {
      const s = Buffer.from(obj[k]).toString();
      try { obj[k] = JSON.parse(s); } catch { obj[k] = { __bytes: Buffer.from(obj[k]).toString('base64') }; }
    }
  }
  return obj;
}

/** JSON values in a handler's result → bytes for the gRPC message (recursively for subs). */
function jsonToBytes(obj) {
  if (!obj || typeof obj !== 'object') return obj;
  const out = Array.isArray(obj) ? [] : {};
  for (const [k, v] of Object.entries(obj)) {
    if (JSON_BYTES.has(k) && v !== undefined && !(v instanceof Uint8Array)) out[k] = Buffer.from(JSON.stringify(v));
    else if (v && typeof v === 'object' && !(v instanceof Uint8Array)) out[k] = jsonToBytes(v);
    else out[k] = v;
  }
  return out;
}

/**
 * Starts a backend that answers proxied events with `handler(event, req,
 * {transport})` → response object ({result}|{error}|{disconnect}, JSON values
 * for data/info/meta), over gRPC (grpcEndpoint) and the HTTP JSON variant
 * (httpEndpoint(event)). Special answers, to play a broken app:
 *   {__http: {status, body, headers}}  the HTTP variant writes exactly this
 *   {__grpcGarbage: true}      the gRPC variant sends bytes that are no valid message
 *   {__grpcStatus: code}       the gRPC variant fails the call with that status
 *   {__drop: true}             the HTTP variant closes the socket without answering
 * Handlers may be async (sleep to overrun the proxy timeout). Every call is
 * recorded in `calls` as {event, transport, req, t}.
 */
export async function startScriptedApp(handler) {
  const calls = [];
  const state = { handler };
  const dispatch = async (event, req, transport) => {
    calls.push({ event, transport, req, t: Date.now() });
    return (await state.handler(event, req, { transport })) ?? {};
  };

  // HTTP variant: POST JSON to /<event> (also …/<event>).
  const httpSrv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', async () => {
      const event = Object.keys(EVENTS).find((e) => req.url.endsWith(`/${e}`));
      if (req.method !== 'POST' || !event) { res.writeHead(404); res.end(); return; }
      let parsed;
      try { parsed = JSON.parse(body); } catch { res.writeHead(400); res.end('bad json'); return; }
      let answer;
      try { answer = await dispatch(event, parsed, 'http'); } catch (e) { res.writeHead(500); res.end(String(e)); return; }
      if (answer.__drop) { req.socket.destroy(); return; }
      if (answer.__http) { res.writeHead(answer.__http.status, { 'Content-Type': 'application/json', ...answer.__http.headers }); res.end(answer.__http.body); return; }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise((r) => httpSrv.listen(0, '127.0.0.1', r));
  const httpPort = httpSrv.address().port;

  // gRPC variant.
  const grpcSrv = new grpc.Server();
  const definition = {};
  const impl = {};
  for (const [event, [method, prefix]] of Object.entries(EVENTS)) {
    const Req = PT(`${prefix}Request`);
    const Res = PT(`${prefix}Response`);
    definition[method] = {
      path: `/centrifugal.centrifugo.proxy.CentrifugoProxy/${method}`,
      requestStream: false,
      responseStream: false,
      requestDeserialize: (buf) => bytesToJSON(Req.toObject(Req.decode(buf), { longs: Number, defaults: false })),
      requestSerialize: (obj) => Buffer.from(Req.encode(Req.fromObject(obj)).finish()),
      responseSerialize: (obj) => (obj.__grpcGarbage
        ? Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01])
        : Buffer.from(Res.encode(Res.fromObject(jsonToBytes(obj))).finish())),
      responseDeserialize: (buf) => Res.decode(buf),
    };
    impl[method] = (call, cb) => {
      dispatch(event, call.request, 'grpc').then((answer) => {
        if (answer.__grpcStatus) cb({ code: answer.__grpcStatus, details: 'scripted failure' });
        else cb(null, answer);
      }, (e) => cb({ code: grpc.status.INTERNAL, details: String(e) }));
    };
  }
  grpcSrv.addService(definition, impl);
  const grpcPort = await new Promise((resolve, reject) => {
    grpcSrv.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });

  return {
    calls,
    httpPort,
    grpcPort,
    grpcEndpoint: `grpc://127.0.0.1:${grpcPort}`,
    httpEndpoint: (event) => `http://127.0.0.1:${httpPort}/${event}`,
    /** Endpoint of `event` for transport 'grpc' | 'http'. */
    endpoint(transport, event) { return transport === 'grpc' ? this.grpcEndpoint : this.httpEndpoint(event); },
    setHandler(h) { state.handler = h; },
    /** Calls of one event (optionally only those matching `filter`). */
    callsOf(event, filter = () => true) { return calls.filter((c) => c.event === event && filter(c.req)); },
    /** Stops both listeners at once, dropping open connections (bounded: never hangs a test file). */
    async close() {
      grpcSrv.forceShutdown();
      await Promise.race([
        new Promise((r) => { httpSrv.close(() => r()); httpSrv.closeAllConnections?.(); }),
        sleep(2000),
      ]);
    },
  };
}

/** Options for before/after hooks: bounded, so a stuck start or stop fails instead of hanging the file. */
export const HOOK = { timeout: 20000 };
