// TLS end to end: the real `spindle server` calls a real `spindle app` over
// TLS (gRPC connect proxy and HTTPS rpc proxy, both with mutual TLS), the
// app's worker publishes through the server's gRPC API over mutual TLS, and
// the centrifuge SDK connects over wss:// trusting the test CA. Certificates
// are made here by openssl for this run; nothing is checked in.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';

import WebSocket from 'ws';
import { Centrifuge } from 'centrifuge';

import { E2E_DIR, SPINDLE_BIN, freePort, sleep, uid } from './helpers.mjs';
import { Proc, T30, waitTcp } from './procs.mjs';

const HOOK = { timeout: 30000 };
const WORKER = path.join(E2E_DIR, 'workers', 'fault-worker.cjs');

/** A CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files in dir. */
function makeCerts(dir) {
  const run = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 20000 });
  const f = (n) => path.join(dir, n);
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=spindle e2e CA', '-keyout', f('ca.key'), '-out', f('ca.crt'),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  const leaf = (name, ext) => {
    run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name}`,
      '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`));
    fs.writeFileSync(f(`${name}.ext`), ext);
    run('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial',
      '-days', '1', '-out', f(`${name}.crt`), '-extfile', f(`${name}.ext`));
  };
  leaf('server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'extendedKeyUsage=clientAuth\n');
  return {
    ca: f('ca.crt'), caPEM: fs.readFileSync(f('ca.crt')),
    cert: f('server.crt'), key: f('server.key'),
    clientCert: f('client.crt'), clientKey: f('client.key'),
  };
}

/** GET url over HTTPS trusting ca; resolves to the status code, rejects on a TLS error. */
function httpsStatus(url, ca) {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, timeout: 2000 }, (res) => { res.resume(); resolve(res.statusCode); });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

async function untilOK(what, proc, fn, timeout = 10000) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    if (proc.exited) throw new Error(`${proc.name} exited ${JSON.stringify(proc.exited)}:\n${proc.tail()}`);
    try { if (await fn()) return; } catch (e) { last = e; }
    await sleep(50);
  }
  throw new Error(`${what} not ready within ${timeout} ms (${last?.message}):\n${proc.tail()}`);
}

const hasOpenSSL = (() => { try { execFileSync('openssl', ['version'], { stdio: 'ignore' }); return true; } catch { return false; } })();

describe('TLS: spindle server ⇄ spindle app, SDK over wss://', { skip: !hasOpenSSL && 'openssl is not installed' }, () => {
  let dir; let certs; let app; let server; let port;
  const clients = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spindle-tls-'));
    certs = makeCerts(dir);
    const [appPort, apiPort, statusPort] = [await freePort(), await freePort(), await freePort()];
    port = await freePort();

    const rr = `version: '3'
rpc:
  listen: unix://${path.join(dir, 'rpc.sock')}
server:
  command: ${JSON.stringify(['node', WORKER])}
centrifuge:
  proxy_address: tcp://127.0.0.1:${appPort}
  grpc_api_address: 127.0.0.1:${apiPort}
  grpc_api_key: g
  proxy_tls:
    cert: ${certs.cert}
    key: ${certs.key}
    client_ca: ${certs.ca}
  tls:
    cert: ${certs.clientCert}
    key: ${certs.clientKey}
    ca: ${certs.ca}
  pool:
    num_workers: 1
    destroy_timeout: 5s
status:
  address: 127.0.0.1:${statusPort}
`;
    fs.writeFileSync(path.join(dir, '.rr.yaml'), rr);
    app = new Proc('spindle app', SPINDLE_BIN, ['app', '-c', path.join(dir, '.rr.yaml')],
      { env: { NODE_PATH: path.join(E2E_DIR, 'node_modules') }, cwd: dir });
    await untilOK('spindle app /ready', app, async () => (await fetch(`http://127.0.0.1:${statusPort}/ready`)).ok);

    const tlsOut = { enabled: true, server_ca_pem: certs.ca, cert_pem: certs.clientCert, key_pem: certs.clientKey };
    const config = {
      http_server: { address: '127.0.0.1', port, tls: { enabled: true, cert_pem: certs.cert, key_pem: certs.key } },
      health: { enabled: true },
      http_api: { key: 'k' },
      grpc_api: { enabled: true, address: '127.0.0.1', port: apiPort, key: 'g',
        tls: { enabled: true, cert_pem: certs.cert, key_pem: certs.key, client_ca_pem: certs.ca } },
      client: { proxy: { connect: { enabled: true, endpoint: `grpc://127.0.0.1:${appPort}`, timeout: '5s', grpc: { tls: tlsOut } } } },
      rpc: { proxy: { endpoint: `https://127.0.0.1:${appPort}/rpc`, timeout: '5s', http: { tls: tlsOut } } },
      channel: { without_namespace: { allow_subscribe_for_client: true } },
      log: { level: 'debug' },
    };
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
    const check = execFileSync(SPINDLE_BIN, ['checkconfig', '-c', path.join(dir, 'config.json'), '--app', path.join(dir, '.rr.yaml')],
      { encoding: 'utf8', timeout: 10000 });
    assert.match(check, /valid/);
    server = new Proc('spindle server', SPINDLE_BIN, ['server', '-c', path.join(dir, 'config.json')]);
    await waitTcp(port, { proc: server });
    await untilOK('spindle server https /health', server, async () => (await httpsStatus(`https://127.0.0.1:${port}/health`, certs.caPEM)) === 200);
  }, HOOK);

  after(async () => {
    for (const c of clients) c.disconnect();
    await server?.stop();
    await app?.stop();
    if (dir && !process.env.E2E_KEEP) fs.rmSync(dir, { recursive: true, force: true });
  }, HOOK);

  /** An SDK client over wss:// that trusts the test CA (ws takes the TLS options). */
  function client(opts = {}) {
    const ca = certs.caPEM;
    class TrustingWebSocket extends WebSocket {
      constructor(url, protocols) { super(url, protocols, { ca }); }
    }
    const c = new Centrifuge(`wss://127.0.0.1:${port}/connection/websocket`, {
      websocket: TrustingWebSocket, minReconnectDelay: 100, maxReconnectDelay: 500, timeout: 5000, ...opts,
    });
    clients.push(c);
    return c;
  }

  test('the SDK connects over wss://, the connect proxy (gRPC over mutual TLS) names the user, RPC goes over HTTPS', T30, async () => {
    const c = client({ data: { token: 'alice' } });
    const connectedP = new Promise((resolve, reject) => {
      c.once('connected', resolve);
      c.once('disconnected', (ctx) => reject(new Error(`disconnected ${ctx.code} ${ctx.reason}`)));
      setTimeout(() => reject(new Error(`not connected in 10 s:\n${server.tail()}\n${app.tail()}`)), 10000);
    });
    c.connect();
    const ctx = await connectedP;
    assert.equal(ctx.transport, 'websocket');
    const res = await c.rpc('whoami', {});
    assert.equal(res.data.user, 'alice', 'the user the app decided over the TLS connect proxy');
  });

  test("the app's worker publishes through the gRPC API over mutual TLS; the subscriber gets it over wss://", T30, async () => {
    const c = client({ data: { token: 'bob' } });
    const channel = uid('tls');
    const sub = c.newSubscription(channel);
    const got = new Promise((resolve, reject) => {
      sub.on('publication', (p) => resolve(p.data));
      setTimeout(() => reject(new Error(`no publication in 10 s:\n${server.tail()}\n${app.tail()}`)), 10000);
    });
    const subscribed = new Promise((resolve) => sub.once('subscribed', resolve));
    sub.subscribe();
    c.connect();
    await subscribed;
    const res = await c.rpc('shout', { channel, text: 'over TLS' });
    assert.equal(res.data.published, true);
    assert.deepEqual(await got, { text: 'over TLS', from: 'bob' });
  });

  test('a client that does not trust the CA is refused by the handshake', T30, async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}/connection/websocket`);
    const err = await new Promise((resolve) => { ws.once('error', resolve); ws.once('open', () => resolve(null)); });
    ws.terminate();
    assert.ok(err, 'a wss:// connection without the test CA was opened');
    assert.match(err.message, /self[- ]signed|unable to verify|certificate/i);
  });
});
