// Shared harness for the end-to-end suite: it starts the real spindle binary
// with a generated configuration, talks to it through the real centrifuge SDK
// and plain HTTP, and makes sure no server process outlives the test file.

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import WebSocket from 'ws';
import { Centrifuge as CentrifugeJSON } from 'centrifuge';
import { Centrifuge as CentrifugeProtobuf } from 'centrifuge/build/protobuf';

export { WebSocket };

/** Directory of this suite; paths in env vars are resolved against it. */
export const E2E_DIR = path.dirname(fileURLToPath(import.meta.url));

/** The binary under test: SPINDLE_BIN or ../bin/spindle next to e2e/. */
export const SPINDLE_BIN = path.resolve(E2E_DIR, process.env.SPINDLE_BIN || '../bin/spindle');

/** Both wire formats of client protocol v2. */
export const PROTOCOLS = ['json', 'protobuf'];

/** Per-test options: every scenario is bounded (the brief caps a test at 15 s). */
export const T = { timeout: 15000 };

const HEALTH_WAIT_MS = 8000;
const STOP_GRACE_MS = 3000;

// ---------------------------------------------------------------------------
// Process bookkeeping: every spindle child is killed when this file's process
// exits, however it exits. A watchdog shell holds a pipe from us; when we die
// (even by SIGKILL) the pipe closes and the watchdog kills the server by pid.

const liveChildren = new Set();

process.on('exit', () => {
  for (const child of liveChildren) {
    try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
});

function attachWatchdog(child) {
  const dog = spawn('sh', ['-c', `cat >/dev/null; kill -9 ${child.pid} 2>/dev/null; exit 0`], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  dog.unref();
  dog.stdin.on('error', () => {});
  if (typeof dog.stdin.unref === 'function') dog.stdin.unref();
  return () => { try { dog.stdin.end(); } catch { /* closed */ } };
}

// ---------------------------------------------------------------------------
// Small utilities.

/** Our environment minus CENTRIFUGO_* (config overrides must come from the test only), plus `extra`. */
function childEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CENTRIFUGO_')) env[k] = v;
  return { ...env, ...extra };
}

/** Picks a currently free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves after ms milliseconds. */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Random identifier for users and channels, so tests never share state by accident. */
export const uid = (prefix = 'x') => `${prefix}${crypto.randomBytes(4).toString('hex')}`;

/**
 * Waits for one emission of `event` on an EventEmitter (centrifuge clients,
 * subscriptions, ws sockets) that satisfies `filter`; rejects after `timeout`
 * ms with a message naming what was awaited.
 */
export function waitEvent(emitter, event, { timeout = 5000, filter = () => true, what = '' } = {}) {
  return new Promise((resolve, reject) => {
    const onEvent = (...args) => {
      let ok = false;
      try { ok = filter(...args); } catch (e) { cleanup(); reject(e); return; }
      if (!ok) return;
      cleanup();
      resolve(args.length <= 1 ? args[0] : args);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeout} ms waiting for "${event}"${what ? ` (${what})` : ''}`));
    }, timeout);
    const cleanup = () => { clearTimeout(timer); emitter.off(event, onEvent); };
    emitter.on(event, onEvent);
  });
}

/** Records every emission of `event` into an array (ctx objects). */
export function collect(emitter, event) {
  const out = [];
  emitter.on(event, (ctx) => out.push(ctx));
  return out;
}

/** Polls `cond` until it returns truthy or `timeout` ms pass; returns the last value. */
export async function until(cond, { timeout = 5000, interval = 20, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(interval);
  }
}

// ---------------------------------------------------------------------------
// JWT signing with node:crypto only (no third-party JWT code in the loop).

const HASH = { 256: 'sha256', 384: 'sha384', 512: 'sha512' };

/**
 * Signs `claims` as a compact JWT. alg: HS256..512, RS256..512, ES256..512, EdDSA or none; key: the HMAC
 * secret string or a private KeyObject; kid goes into the header when given.
 */
export function signJWT(claims, { alg = 'HS256', key, kid, header = {} } = {}) {
  const head = { typ: 'JWT', alg, ...(kid ? { kid } : {}), ...header };
  const input = `${b64url(JSON.stringify(head))}.${b64url(JSON.stringify(claims))}`;
  let sig;
  const bits = alg.slice(2);
  if (alg === 'none') sig = Buffer.alloc(0);
  else if (alg.startsWith('HS')) sig = crypto.createHmac(HASH[bits], key).update(input).digest();
  else if (alg.startsWith('RS')) sig = crypto.sign(HASH[bits], Buffer.from(input), key);
  else if (alg.startsWith('ES')) sig = crypto.sign(HASH[bits], Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  else if (alg === 'EdDSA') sig = crypto.sign(null, Buffer.from(input), key);
  else throw new Error(`signJWT: unsupported alg ${alg}`);
  return `${input}.${sig.toString('base64url')}`;
}

function b64url(s) { return Buffer.from(s).toString('base64url'); }

/** Unix seconds, offset by `delta` seconds. */
export const nowSec = (delta = 0) => Math.floor(Date.now() / 1000) + delta;

/** Key pairs per JWT algorithm family; the EC curve is fixed by the algorithm. */
export function genKeyPair(alg) {
  if (alg.startsWith('RS')) return crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  if (alg === 'ES256') return crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  if (alg === 'ES384') return crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' });
  if (alg === 'ES512') return crypto.generateKeyPairSync('ec', { namedCurve: 'P-521' });
  if (alg === 'EdDSA') return crypto.generateKeyPairSync('ed25519');
  throw new Error(`genKeyPair: unsupported alg ${alg}`);
}

/** PEM (SPKI) text of a public key, as the token_*_public_key options expect. */
export const publicPEM = (pair) => pair.publicKey.export({ type: 'spki', format: 'pem' });

// ---------------------------------------------------------------------------
// The server under test.

/** Minimal config every test server gets: loopback only, health and metrics on. */
export function baseConfig(port) {
  return {
    address: '127.0.0.1',
    port,
    health: true,
    prometheus: true,
    log_level: process.env.E2E_LOG_LEVEL || 'info',
  };
}

/**
 * A running `spindle server` process. Created by startServer; stop() is safe
 * to call more than once and always leaves no process behind.
 */
export class SpindleServer {
  constructor({ child, port, dir, configFile, logFile, apiKey, releaseWatchdog }) {
    this.child = child;
    this.port = port;
    this.dir = dir;
    this.configFile = configFile;
    this.logFile = logFile;
    this.apiKey = apiKey;
    this.releaseWatchdog = releaseWatchdog;
    this.output = [];
    this.exited = null; // {code, signal} once the process is gone
    this.exitPromise = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exited = { code, signal };
        liveChildren.delete(child);
        resolve(this.exited);
      });
    });
  }

  get httpUrl() { return `http://127.0.0.1:${this.port}`; }
  get wsUrl() { return `ws://127.0.0.1:${this.port}/connection/websocket`; }

  /** Last lines of server output, for failure messages. */
  tail(n = 40) { return this.output.join('').split('\n').slice(-n).join('\n'); }

  /**
   * Calls the HTTP server API. Returns {status, text, json} without throwing on
   * HTTP errors so tests can assert status codes; key: null sends no key.
   */
  async api(method, body, { key = this.apiKey, headers = {}, query = '', httpMethod = 'POST', raw } = {}) {
    const h = { 'Content-Type': 'application/json', ...headers };
    if (key !== null && key !== undefined) h['X-API-Key'] = key;
    const res = await fetch(`${this.httpUrl}/api/${method}${query}`, {
      method: httpMethod,
      headers: h,
      body: httpMethod === 'GET' || httpMethod === 'HEAD' ? undefined : (raw !== undefined ? raw : JSON.stringify(body ?? {})),
      signal: AbortSignal.timeout(5000),
    });
    const text = await res.text();
    let json;
    try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
    return { status: res.status, text, json, headers: res.headers };
  }

  /** API call that must succeed at HTTP level and carry no error; returns `result`. */
  async apiOK(method, body) {
    const r = await this.api(method, body);
    if (r.status !== 200 || !r.json || r.json.error) {
      throw new Error(`POST /api/${method} ${JSON.stringify(body)} → HTTP ${r.status} ${r.text}`);
    }
    return r.json.result;
  }

  /** Stops the server: SIGTERM, then SIGKILL after a grace period. */
  async stop() {
    if (!this.exited) {
      try { this.child.kill('SIGTERM'); } catch { /* gone */ }
      const timer = setTimeout(() => { try { this.child.kill('SIGKILL'); } catch { /* gone */ } }, STOP_GRACE_MS);
      await this.exitPromise;
      clearTimeout(timer);
    }
    this.releaseWatchdog();
    if (process.env.E2E_KEEP) return;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Writes `text` into a fresh temp dir; returns the file path. */
export function writeTempFile(name, text) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spindle-e2e-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

/**
 * Starts `spindle server --config <tmp>/config.json` with `config` merged over
 * baseConfig (port picked here unless given), waits for /health, and returns
 * the SpindleServer. Pass `configText` to use an exact file body instead
 * (its port must then be `port` from opts, and `apiKey` the key it sets).
 */
export async function startServer(config = {}, { configText, port: fixedPort, healthPath = '/health', env = {}, apiKey } = {}) {
  if (!fs.existsSync(SPINDLE_BIN)) {
    throw new Error(`spindle binary not found at ${SPINDLE_BIN} (run "make build" or set SPINDLE_BIN)`);
  }
  const port = fixedPort || config.port || await freePort();
  const full = { ...baseConfig(port), ...config, port };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spindle-e2e-'));
  const configFile = path.join(dir, 'config.json');
  fs.writeFileSync(configFile, configText ?? JSON.stringify(full, null, 2));
  const logFile = path.join(dir, 'server.log');
  const logStream = fs.createWriteStream(logFile);

  const child = spawn(SPINDLE_BIN, ['server', '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: childEnv(env),
  });
  liveChildren.add(child);
  const releaseWatchdog = attachWatchdog(child);
  const srv = new SpindleServer({ child, port, dir, configFile, logFile, apiKey: apiKey ?? full.api_key, releaseWatchdog });
  const onData = (chunk) => {
    const s = chunk.toString();
    srv.output.push(s);
    logStream.write(s);
    if (process.env.E2E_SERVER_LOG) process.stderr.write(`[spindle:${port}] ${s}`);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  child.on('exit', () => logStream.end());
  child.on('error', (e) => srv.output.push(`spawn error: ${e.message}\n`));

  const deadline = Date.now() + HEALTH_WAIT_MS;
  let lastErr = '';
  while (Date.now() < deadline) {
    if (srv.exited) break;
    try {
      const res = await fetch(`${srv.httpUrl}${healthPath}`, { signal: AbortSignal.timeout(1000) });
      await res.text();
      if (res.status === 200) return srv;
      lastErr = `HTTP ${res.status}`;
    } catch (e) {
      lastErr = e.cause?.code || e.message;
    }
    await sleep(50);
  }
  const why = srv.exited
    ? `exited early (code ${srv.exited.code}, signal ${srv.exited.signal})`
    : `no 200 from ${healthPath} within ${HEALTH_WAIT_MS} ms (last: ${lastErr})`;
  await srv.stop().catch(() => {});
  throw new Error(`spindle server ${why}\nconfig: ${JSON.stringify(full)}\n--- server output ---\n${srv.tail()}`);
}

/**
 * Runs a spindle subcommand to completion (bounded); returns {code, stdout, stderr}.
 */
export function runSpindle(args, { timeout = 10000, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(SPINDLE_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv(env) });
    liveChildren.add(child);
    const release = attachWatchdog(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } }, timeout);
    child.on('error', (e) => { clearTimeout(timer); release(); reject(e); });
    // 'close', not 'exit': a process can exit before its output has been
    // read, and under load the answer would then be missing its text.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      release();
      resolve({ code, signal, stdout, stderr });
    });
  });
}

// ---------------------------------------------------------------------------
// Clients.

const openClients = new Set();

/**
 * A centrifuge SDK client for `proto` ('json' | 'protobuf') pointed at
 * `server` (or an explicit url). Reconnect delays are shortened so tests stay
 * fast; everything else is SDK default. The client is remembered so
 * closeClients() can disconnect it after the test.
 */
export function newClient(server, proto, opts = {}) {
  const { url, ...rest } = opts;
  const Ctor = proto === 'protobuf' ? CentrifugeProtobuf : CentrifugeJSON;
  const c = new Ctor(url || server.wsUrl, {
    websocket: WebSocket,
    minReconnectDelay: 100,
    maxReconnectDelay: 800,
    timeout: 5000,
    ...rest,
  });
  c.__proto = proto;
  c.__trace = [];
  for (const ev of ['connecting', 'connected', 'disconnected', 'error']) {
    c.on(ev, (ctx) => c.__trace.push(`${ev}:${ctx?.code ?? ctx?.error?.code ?? ''}${ctx?.reason ? `(${ctx.reason})` : ''}${ctx?.error?.message ? `(${ctx.error.message})` : ''}`));
  }
  // An SDK 'error' event without a listener would be fine, but keep it quiet.
  openClients.add(c);
  return c;
}

/** Human-readable event history of a client, for assertion messages. */
export const traceOf = (c) => c.__trace.join(' → ');

/** Connects and waits for 'connected'; rejects with the client's trace otherwise. */
export async function connected(c, timeout = 5000) {
  if (c.state === 'connected') return;
  const p = waitEvent(c, 'connected', { timeout, what: 'client connected' });
  c.connect();
  try { return await p; } catch (e) { throw new Error(`${e.message}; client trace: ${traceOf(c)}`); }
}

/** Subscribes and waits for 'subscribed'; returns [sub, subscribedCtx]. */
export async function subscribed(c, channel, opts = {}, timeout = 5000) {
  const sub = c.getSubscription(channel) || c.newSubscription(channel, opts);
  const errors = collect(sub, 'error');
  const unsubs = collect(sub, 'unsubscribed');
  const p = waitEvent(sub, 'subscribed', { timeout, what: `subscribed to ${channel}` });
  sub.subscribe();
  try {
    return [sub, await p];
  } catch (e) {
    throw new Error(`${e.message}; sub errors: ${JSON.stringify(errors.map((x) => x.error))}; unsubscribed: ${JSON.stringify(unsubs)}; client trace: ${traceOf(c)}`);
  }
}

/** Disconnects every client created by newClient (call from after/afterEach). */
export function closeClients() {
  for (const c of openClients) {
    try { c.disconnect(); } catch { /* ignore */ }
  }
  openClients.clear();
}

/** Encodes an object as the SDK's publish payload for the given format. */
export function enc(proto, obj) {
  return proto === 'protobuf' ? new TextEncoder().encode(JSON.stringify(obj)) : obj;
}

/** Decodes a publication payload (object for JSON, bytes for protobuf) to an object. */
export function dec(proto, data) {
  if (proto !== 'protobuf') return data;
  return JSON.parse(new TextDecoder().decode(data));
}

/**
 * A ws subclass that records every frame in and out, so tests can see pings
 * and pongs the SDK does not expose. Use as `websocket:` option.
 */
export function tappedWebSocket(log, wsOptions = {}) {
  return class TappedWebSocket extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols, wsOptions);
      this.on('message', (data, isBinary) => log.push({ dir: 'in', data: Buffer.from(data), isBinary, t: Date.now() }));
    }

    send(data, ...rest) {
      log.push({ dir: 'out', data: Buffer.from(typeof data === 'string' ? data : new Uint8Array(data)), t: Date.now() });
      return super.send(data, ...rest);
    }
  };
}

/** A ws class that sends a fixed Origin header (Node's ws sends none by default). */
export function originWebSocket(origin) {
  return class OriginWebSocket extends WebSocket {
    constructor(url, protocols) { super(url, protocols, { origin }); }
  };
}

// ---------------------------------------------------------------------------
// Raw protocol client (JSON) for checks the SDK hides: close codes, pings.

/**
 * Opens a plain WebSocket to the server. Resolves {ws, messages, closed} once
 * open; `messages` collects parsed JSON replies (one per line), `closed`
 * resolves with {code, reason}. Rejects with {status} on an HTTP refusal.
 */
export function rawConnect(url, { origin, protocols, timeout = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, origin ? { origin } : {});
    const messages = [];
    const frames = [];
    let closeResolve;
    const closed = new Promise((r) => { closeResolve = r; });
    const timer = setTimeout(() => { ws.terminate(); reject(new Error(`raw ws: no open within ${timeout} ms`)); }, timeout);
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      const err = new Error(`HTTP ${res.statusCode}`);
      err.status = res.statusCode;
      res.resume();
      ws.terminate();
      reject(err);
    });
    ws.on('error', (e) => { clearTimeout(timer); reject(e); });
    ws.on('message', (data, isBinary) => {
      frames.push({ data: Buffer.from(data), isBinary, t: Date.now() });
      if (isBinary) return;
      for (const line of data.toString().split('\n')) {
        if (line.trim() === '') continue;
        try { messages.push(JSON.parse(line)); } catch { messages.push({ __unparsable: line }); }
      }
    });
    ws.on('close', (code, reason) => closeResolve({ code, reason: reason.toString(), t: Date.now() }));
    ws.on('open', () => { clearTimeout(timer); resolve({ ws, messages, frames, closed }); });
  });
}

// ---------------------------------------------------------------------------
// A TCP relay in front of the server, to cut connections the way a network
// does (no WebSocket close frame) and to keep the client away while we act.

/**
 * Starts a relay 127.0.0.1:<port> → 127.0.0.1:<targetPort>. drop() resets all
 * live connections; block()/unblock() make new connections fail at once.
 */
export async function startRelay(targetPort) {
  const pairs = new Set();
  let blocked = false;
  const srv = net.createServer((down) => {
    if (blocked) { down.resetAndDestroy(); return; }
    const up = net.connect(targetPort, '127.0.0.1');
    const pair = { down, up };
    pairs.add(pair);
    const end = () => { pairs.delete(pair); down.destroy(); up.destroy(); };
    down.on('error', end); up.on('error', end);
    down.on('close', end); up.on('close', end);
    down.pipe(up); up.pipe(down);
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: srv.address().port,
    get connections() { return pairs.size; },
    block() { blocked = true; },
    unblock() { blocked = false; },
    drop() {
      for (const { down, up } of pairs) { down.resetAndDestroy(); up.resetAndDestroy(); }
      pairs.clear();
    },
    close() { this.drop(); return new Promise((r) => srv.close(() => r())); },
  };
}

// ---------------------------------------------------------------------------
// A tiny JWKS endpoint.

/** Serves {"keys":[...]} at http://127.0.0.1:<port>/jwks; counts requests. */
export async function startJWKS(keys) {
  const http = await import('node:http');
  const state = { hits: 0 };
  const srv = http.createServer((req, res) => {
    state.hits++;
    if (req.url !== '/jwks') { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ keys }));
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${srv.address().port}/jwks`,
    state,
    close: () => new Promise((r) => { srv.closeAllConnections?.(); srv.close(() => r()); }),
  };
}

/** Public JWK of a key pair with kid/alg/use set, as a JWKS entry. */
export function publicJWK(pair, kid, alg) {
  return { ...pair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}
