// Harness for the worker end-to-end tests: real `spindle server` and
// `spindle app` processes wired to each other on loopback ports, the real
// centrifuge SDK as the client, and process bookkeeping that leaves nothing
// running when a test (or Node itself) dies.

import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import WebSocket from 'ws';
import { Centrifuge } from 'centrifuge';

export const DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(DIR, '..', '..');
export const SPINDLE_BIN = path.resolve(DIR, process.env.SPINDLE_BIN || '../../bin/spindle');
export const NODE_WORKER = path.join(DIR, 'fault-worker.cjs');
export const PHP_WORKER = path.join(REPO, 'examples', 'workers', 'php', 'worker.php');

/** Every test is bounded (the brief: 30 s each). */
export const T = { timeout: 30000 };

const live = new Set();
process.on('exit', () => {
  for (const c of live) {
    try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
  }
});

// A watchdog shell holds a pipe from us; when we die, even by SIGKILL, it
// kills the child (and the child's workers die with their relay).
function watchdog(child) {
  const dog = spawn('sh', ['-c', `cat >/dev/null; kill -9 ${child.pid} 2>/dev/null; exit 0`], { stdio: ['pipe', 'ignore', 'ignore'] });
  dog.unref();
  dog.stdin.on('error', () => {});
  if (typeof dog.stdin.unref === 'function') dog.stdin.unref();
  return () => { try { dog.stdin.end(); } catch { /* closed */ } };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const uid = (p = 'x') => `${p}${crypto.randomBytes(4).toString('hex')}`;

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export async function until(cond, { timeout = 5000, interval = 25, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(interval);
  }
}

export function waitEvent(emitter, event, { timeout = 5000, filter = () => true } = {}) {
  return new Promise((resolve, reject) => {
    const on = (ctx) => {
      if (!filter(ctx)) return;
      clearTimeout(timer);
      emitter.off(event, on);
      resolve(ctx);
    };
    const timer = setTimeout(() => { emitter.off(event, on); reject(new Error(`timed out waiting for ${event}`)); }, timeout);
    emitter.on(event, on);
  });
}

/** pids of live processes whose command line contains marker (pgrep -f). */
export function pgrep(marker) {
  try {
    return execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch (e) {
    if (e.status === 1) return [];
    throw e;
  }
}

/** A child process with its output kept for assertions. */
class Proc {
  constructor(name, args, env, dir) {
    this.name = name;
    this.dir = dir;
    this.output = '';
    this.child = spawn(SPINDLE_BIN, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(this.child);
    this.release = watchdog(this.child);
    const keep = (b) => {
      this.output += b.toString();
      if (process.env.E2E_LOG) process.stderr.write(`[${name}] ${b}`);
    };
    this.child.stdout.on('data', keep);
    this.child.stderr.on('data', keep);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        live.delete(this.child);
        this.release();
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  /** Waits for text (string or RegExp) in the output. */
  waitOutput(text, timeout = 5000) {
    const has = () => (typeof text === 'string' ? this.output.includes(text) : text.test(this.output));
    return until(has, { timeout, what: `${this.name} output ${text}` }).catch((e) => {
      throw new Error(`${e.message}\n--- ${this.name} output ---\n${this.output.slice(-4000)}`);
    });
  }

  /** SIGTERM, then SIGKILL after grace ms; resolves with the exit status. */
  async stop(grace = 10000) {
    if (this.exit) return this.exit;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), grace);
    const st = await this.exited;
    clearTimeout(t);
    return st;
  }
}

function tmpdir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Starts `spindle server` with every proxy pointing at appPort (gRPC) and the
 * gRPC API on apiPort. Returns {proc, port, url}.
 */
export async function startServer({ appPort, apiPort, timeout = '1s', extra = {} }) {
  const port = await freePort();
  const dir = tmpdir('spindle-srv-');
  const ep = `grpc://127.0.0.1:${appPort}`;
  const cfg = {
    address: '127.0.0.1',
    port,
    health: true,
    log_level: 'info',
    token_hmac_secret_key: 'e2e-workers-secret-0123456789abcdef',
    api_key: 'e2e-workers-api-key',
    allowed_origins: ['*'],
    grpc_api: true,
    grpc_api_address: '127.0.0.1',
    grpc_api_port: apiPort,
    proxy_connect_endpoint: ep,
    proxy_connect_timeout: timeout,
    proxy_refresh_endpoint: ep,
    proxy_refresh_timeout: timeout,
    proxy_subscribe_endpoint: ep,
    proxy_subscribe_timeout: timeout,
    proxy_publish_endpoint: ep,
    proxy_publish_timeout: timeout,
    proxy_rpc_endpoint: ep,
    proxy_rpc_timeout: timeout,
    proxy_sub_refresh_endpoint: ep,
    proxy_sub_refresh_timeout: timeout,
    proxy_subscribe: true,
    proxy_publish: true,
    proxy_sub_refresh: true,
    client_presence_update_interval: '1s',
    namespaces: [{ name: 'private', proxy_subscribe: true, proxy_publish: true }],
    ...extra,
  };
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, JSON.stringify(cfg, null, 2));
  const proc = new Proc('server', ['server', '-c', file], {}, dir);
  await until(async () => {
    if (proc.exit) throw new Error(`spindle server exited ${JSON.stringify(proc.exit)}:\n${proc.output}`);
    try { return (await fetch(`http://127.0.0.1:${port}/health`)).ok; } catch { return false; }
  }, { timeout: 8000, what: 'spindle server /health' });
  return { proc, port, url: `ws://127.0.0.1:${port}/connection/websocket` };
}

/**
 * Writes a .rr.yaml and starts `spindle app`. command is the worker argv;
 * pool is merged into centrifuge.pool. Unless expectFailure, waits until
 * /ready answers 200 (a worker is ready).
 */
export async function startApp({ appPort, apiPort, command, pool = {}, relay = 'pipes', logLevel = 'debug', expectFailure = false, centrifuge = {} }) {
  const dir = tmpdir('spindle-app-');
  const status = await freePort();
  const rpc = `unix://${path.join(dir, 'rpc.sock')}`;
  const poolYaml = Object.entries({ num_workers: 1, destroy_timeout: '5s', allocate_timeout: '5s', ...pool })
    .map(([k, v]) => (typeof v === 'object'
      ? `    ${k}:\n${Object.entries(v).map(([k2, v2]) => `      ${k2}: ${v2}`).join('\n')}`
      : `    ${k}: ${v}`))
    .join('\n');
  const yaml = `version: '3'
rpc:
  listen: ${rpc}
server:
  command: ${JSON.stringify(command)}
  relay: ${relay}
centrifuge:
  proxy_address: tcp://127.0.0.1:${appPort}
  grpc_api_address: 127.0.0.1:${apiPort}
${Object.entries(centrifuge).map(([k, v]) => `  ${k}: ${v}\n`).join('')}  pool:
${poolYaml}
status:
  address: 127.0.0.1:${status}
metrics:
  address: 127.0.0.1:${status}
`;
  const file = path.join(dir, '.rr.yaml');
  fs.writeFileSync(file, yaml);
  // The example worker finds protobufjs in its own node_modules when
  // installed there, else in ours.
  const env = { NODE_PATH: path.join(DIR, 'node_modules') };
  const proc = new Proc('app', ['app', '-c', file, '--log_level', logLevel], env, dir);
  proc.statusURL = `http://127.0.0.1:${status}`;
  proc.rpc = rpc;
  proc.config = file;
  if (expectFailure) return proc;
  await until(async () => {
    if (proc.exit) throw new Error(`spindle app exited ${JSON.stringify(proc.exit)}:\n${proc.output}`);
    try { return (await fetch(`${proc.statusURL}/ready`)).ok; } catch { return false; }
  }, { timeout: 10000, what: 'spindle app /ready' });
  return proc;
}

/**
 * Starts server and app around one worker command; returns {server, app, url, close}.
 * server, if given, returns extra server config keys from {endpoint} (the app's gRPC
 * proxy endpoint), for tests that configure named proxies.
 */
export async function startStack({ command, pool, relay, timeout, logLevel, centrifuge, server: serverExtra } = {}) {
  if (!Array.isArray(command)) throw new Error('startStack: command must be an argv array');
  const appPort = await freePort();
  const apiPort = await freePort();
  const app = await startApp({ appPort, apiPort, command, pool, relay, logLevel, centrifuge });
  const extra = serverExtra ? serverExtra({ endpoint: `grpc://127.0.0.1:${appPort}` }) : {};
  const server = await startServer({ appPort, apiPort, timeout, extra });
  const clients = [];
  return {
    app,
    server,
    url: server.url,
    client(opts = {}) {
      const c = new Centrifuge(server.url, { websocket: WebSocket, minReconnectDelay: 100, maxReconnectDelay: 300, ...opts });
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.disconnect();
      const [appExit] = await Promise.all([app.stop(), server.proc.stop()]);
      return appExit;
    },
  };
}

/** Connects a client and waits for "connected". */
export async function connected(c, timeout = 5000) {
  const p = waitEvent(c, 'connected', { timeout });
  c.connect();
  return p;
}

/** node + the fault worker, tagged with a unique marker for pgrep. */
export function nodeWorker(...flags) {
  const marker = `--marker=${uid('w')}`;
  return { command: [process.execPath, NODE_WORKER, marker, ...flags], marker: marker.slice('--marker='.length) };
}

export const json = (v) => JSON.parse(new TextDecoder().decode(v instanceof Uint8Array ? v : new Uint8Array(v)));
