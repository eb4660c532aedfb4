// The one set of processes every catalogue case runs against: a real
// `spindle server`, a real `spindle app` with the Node fault worker behind it,
// and a scripted proxy backend (HTTP and gRPC) that plays a broken app on
// demand. A canary subscriber (one JSON, one Protobuf) receives a publication
// every 100 ms for the whole suite and /health is polled all along, so the
// suite can assert at the end that no bad input cost anyone else a message.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  E2E_DIR, SPINDLE_BIN, startServer, freePort, newClient, connected, subscribed, sleep, until, uid, dec,
  signJWT, nowSec,
} from '../helpers.mjs';
import { Proc, startScriptedApp } from '../procs.mjs';

export const SECRET = 'catalogue-secret-' + uid() + '-0123456789abcdef';
/** The shared-poll signing key of the topology's `poll` namespace. */
export const POLL_SECRET = 'catalogue-poll-secret-0123456789abcdef012345';
export const API_KEY = 'catalogue-api-' + uid();
export const GRPC_API_KEY = 'catalogue-grpc-' + uid();
export const GOOD_ORIGIN = 'http://app.example.test';
export const USER_LIMIT = 3;

const FAULT_WORKER = path.resolve(E2E_DIR, 'workers', 'fault-worker.cjs');

/** A backend handler the cases swap in; the default answers like a healthy app. */
export function healthyApp(event, req) {
  switch (event) {
    case 'connect': return { result: { user: String(req.data?.user ?? 'proxy-user') } };
    case 'publish': return { result: {} };
    case 'subscribe': return { result: {} };
    case 'rpc': return { result: { data: { ok: true } } };
    default: return { result: {} };
  }
}

/**
 * Starts `spindle app` (gRPC proxy listener on appPort, server API client to
 * the server's gRPC API) with one fault worker; waits for /ready. Extra
 * worker args (e.g. --exit-at-start) and `expectReady: false` let a case
 * start a broken one.
 */
export async function startWorkerApp({ appPort, apiPort, workerArgs = [], expectReady = true, pool = {} }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spindle-cat-app-'));
  const status = await freePort();
  const poolYaml = Object.entries({ num_workers: 1, destroy_timeout: '3s', allocate_timeout: '3s', ...pool })
    .map(([k, v]) => `    ${k}: ${v}`).join('\n');
  const file = path.join(dir, '.rr.yaml');
  fs.writeFileSync(file, `version: '3'
rpc:
  listen: unix://${path.join(dir, 'rpc.sock')}
server:
  command: ${JSON.stringify(['node', FAULT_WORKER, ...workerArgs])}
  relay: pipes
centrifuge:
  proxy_address: tcp://127.0.0.1:${appPort}
  grpc_api_address: 127.0.0.1:${apiPort}
  pool:
${poolYaml}
status:
  address: 127.0.0.1:${status}
metrics:
  address: 127.0.0.1:${status}
`);
  // The fault worker decodes protobuf with the protobufjs our package installs.
  const proc = new Proc('spindle app', SPINDLE_BIN, ['app', '-c', file], { env: { NODE_PATH: path.join(E2E_DIR, 'node_modules') } });
  proc.statusURL = `http://127.0.0.1:${status}`;
  proc.dir = dir;
  if (expectReady) {
    await until(async () => {
      if (proc.exited) throw new Error(`spindle app exited ${JSON.stringify(proc.exited)}:\n${proc.tail()}`);
      try { return (await fetch(`${proc.statusURL}/ready`)).ok; } catch { return false; }
    }, { timeout: 15000, what: `spindle app /ready\n${proc.tail()}` });
  }
  return proc;
}

/** The server config: every entrance the catalogue pokes at, switched on. */
function serverConfig({ scripted, appPort, apiPort }) {
  const http = (event) => scripted.httpEndpoint(event);
  return {
    token_hmac_secret_key: SECRET,
    api_key: API_KEY,
    grpc_api: true,
    grpc_api_address: '127.0.0.1',
    grpc_api_port: apiPort,
    grpc_api_key: GRPC_API_KEY,
    allowed_origins: [GOOD_ORIGIN],
    client_user_connection_limit: USER_LIMIT,
    client_stale_close_delay: '2s',
    allow_subscribe_for_client: true,
    http_stream: true,
    sse: true,
    uni_http_stream: true,
    uni_websocket: true,
    granular_proxy_mode: true,
    proxies: [
      { name: 'connect-http', endpoint: http('connect'), timeout: '1s' },
      { name: 'publish-http', endpoint: http('publish'), timeout: '1s' },
      { name: 'rpc-http', endpoint: http('rpc'), timeout: '1s' },
      { name: 'scripted-grpc', endpoint: scripted.grpcEndpoint, timeout: '1s' },
      { name: 'worker', endpoint: `grpc://127.0.0.1:${appPort}`, timeout: '1500ms' },
    ],
    connect_proxy_name: 'connect-http',
    rpc_proxy_name: 'worker',
    rpc_namespaces: [
      { name: 'http', rpc_proxy_name: 'rpc-http' },
      { name: 'grpc', rpc_proxy_name: 'scripted-grpc' },
    ],
    namespaces: [
      { name: 'canary', allow_subscribe_for_client: true, history_size: 1000, history_ttl: '300s', force_recovery: true },
      { name: 'pub', allow_subscribe_for_client: true, allow_publish_for_client: true, history_size: 10, history_ttl: '60s' },
      { name: 'pp', allow_subscribe_for_client: true, allow_publish_for_client: true, publish_proxy_name: 'publish-http' },
      { name: 'sp', subscribe_proxy_name: 'scripted-grpc' },
      { name: 'nosub' },
      { name: 'delta', allow_subscribe_for_client: true, history_size: 10, history_ttl: '60s', allowed_delta_types: ['fossil'] },
      {
        name: 'poll', subscription_type: 'shared_poll', allow_subscribe_for_client: true,
        shared_poll: { proxy_name: 'rpc-http', mode: 'versioned', refresh_interval: '1s', max_keys_per_connection: 3 },
      },
      {
        name: 'map', subscription_type: 'map', allow_subscribe_for_client: true, allow_tags_filter: true,
        map: { mode: 'persistent', allow_publish_for_client: true, allow_remove_for_client: true },
      },
    ],
    map_broker: {},
    shared_poll: { hmac_secret_key: POLL_SECRET },
  };
}

/**
 * Starts the whole topology and the canary. Returns ctx: server, app,
 * scripted, and finish() which stops the canary and reports what it saw.
 */
export async function startTopology() {
  const scripted = await startScriptedApp(healthyApp);
  const appPort = await freePort();
  const apiPort = await freePort();
  const server = await startServer(serverConfig({ scripted, appPort, apiPort }));
  let app;
  try {
    app = await startWorkerApp({ appPort, apiPort });
  } catch (e) {
    await server.stop();
    await scripted.close();
    throw e;
  }
  const canary = await startCanary(server);
  return {
    server, app, scripted, appPort, apiPort, canary,
    async stop() {
      await Promise.allSettled([server.stop(), app.stop(), scripted.close()]);
      if (!process.env.E2E_KEEP) fs.rmSync(app.dir, { recursive: true, force: true });
    },
  };
}

const CANARY_CHANNEL = 'canary:live';
const CANARY_EVERY_MS = 100;

/**
 * Two subscribers (JSON and Protobuf) on a channel with history, a publisher
 * through the HTTP API every 100 ms, and a /health poller. finish() stops
 * publishing, waits for stragglers, and returns the tallies.
 */
async function startCanary(server) {
  const subs = [];
  for (const proto of ['json', 'protobuf']) {
    const c = newClient(server, proto, { token: signJWT({ sub: `canary-${proto}`, exp: nowSec(3600) }, { key: SECRET }), name: `canary-${proto}` });
    await connected(c);
    const seen = new Set();
    const [sub] = await subscribed(c, CANARY_CHANNEL);
    sub.on('publication', (ctx) => seen.add(dec(proto, ctx.data).n));
    subs.push({ proto, client: c, seen, sub });
  }
  const state = { sent: [], failed: 0, health: { ok: 0, bad: [] }, stopped: false };
  let n = 0;
  const publisher = (async () => {
    while (!state.stopped) {
      const i = ++n;
      try {
        const r = await server.api('publish', { channel: CANARY_CHANNEL, data: { n: i } });
        if (r.status === 200 && !r.json?.error) state.sent.push(i);
        else state.failed++;
      } catch { state.failed++; }
      await sleep(CANARY_EVERY_MS);
    }
  })();
  const health = (async () => {
    while (!state.stopped) {
      try {
        const r = await fetch(`${server.httpUrl}/health`, { signal: AbortSignal.timeout(2000) });
        await r.text();
        if (r.status === 200) state.health.ok++;
        else state.health.bad.push(`HTTP ${r.status}`);
      } catch (e) { state.health.bad.push(e.cause?.code || e.message); }
      await sleep(250);
    }
  })();
  return {
    async finish() {
      state.stopped = true;
      await Promise.all([publisher, health]);
      const lost = () => subs.map((s) => ({ proto: s.proto, missing: state.sent.filter((i) => !s.seen.has(i)) }));
      await until(() => lost().every((l) => l.missing.length === 0), { timeout: 5000, what: 'canary catch-up' }).catch(() => {});
      const report = { sent: state.sent.length, failed: state.failed, health: state.health, lost: lost() };
      for (const s of subs) s.client.disconnect();
      return report;
    },
  };
}
