// Small clients the catalogue drives by hand: a raw WebSocket that sends
// exactly the bytes a case gives (JSON text or Protobuf frames), a gRPC
// server-API caller, and a checkconfig runner. Written from the spec, not
// from the server's code, so a case sees what any client would see.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

import { WebSocket, runSpindle, sleep, signJWT, nowSec, uid } from '../helpers.mjs';
import { fVarint, fBytes, decodeFields, splitFrame } from '../pbwire.mjs';

/**
 * A raw WebSocket. open() resolves once the upgrade is done (or rejects with
 * err.status on an HTTP refusal). reply(id) waits for the reply with that
 * id; closed(ms) waits for the close, {code:'open'} when it stays open.
 */
export class RawWS {
  static open(url, { protocols, origin, timeout = 4000 } = {}) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols, origin ? { origin } : {});
      const raw = new RawWS(ws);
      const timer = setTimeout(() => { ws.terminate(); reject(new Error(`no open within ${timeout} ms`)); }, timeout);
      ws.on('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        const err = new Error(`HTTP ${res.statusCode}`);
        err.status = res.statusCode;
        reject(err);
        res.resume();
        ws.terminate();
      });
      ws.on('error', (e) => { clearTimeout(timer); reject(e); });
      ws.on('open', () => { clearTimeout(timer); resolve(raw); });
    });
  }

  constructor(ws) {
    this.ws = ws;
    this.messages = [];
    this.frames = [];
    this.closeInfo = null;
    this.closedPromise = new Promise((r) => {
      ws.on('close', (code, reason) => { this.closeInfo = { code, reason: reason.toString() }; r(this.closeInfo); });
    });
    ws.on('message', (data, isBinary) => {
      const buf = Buffer.from(data);
      this.frames.push({ data: buf, isBinary });
      if (isBinary) { for (const m of splitFrame(buf)) this.messages.push(decodePB(m)); return; }
      for (const line of buf.toString().split('\n')) {
        if (line.trim()) { try { this.messages.push(JSON.parse(line)); } catch { this.messages.push({ __unparsable: line }); } }
      }
    });
  }

  /** Sends an object as one JSON line, or a string/Buffer as is (text unless binary). */
  send(v, { binary = false } = {}) {
    if (typeof v === 'object' && !Buffer.isBuffer(v)) v = JSON.stringify(v);
    this.ws.send(v, { binary });
  }

  async reply(id, timeout = 3000) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const m = this.messages.find((x) => x.id === id);
      if (m) return m;
      if (this.closeInfo) throw new Error(`closed ${JSON.stringify(this.closeInfo)} before reply ${id}`);
      if (Date.now() > deadline) throw new Error(`no reply ${id} within ${timeout} ms; got ${JSON.stringify(this.messages)}`);
      await sleep(10);
    }
  }

  async closed(timeout = 3000) {
    return Promise.race([this.closedPromise, sleep(timeout).then(() => ({ code: 'open' }))]);
  }

  close() { try { this.ws.terminate(); } catch { /* gone */ } }
}

// --- Protobuf frames ---------------------------------------------------------

export { fVarint as pbVarint, fBytes as pbBytes, frame as pbFrame } from '../pbwire.mjs';
/** Command{id, connect{token}} (fields 1 and 4). */
export const pbConnect = (id, token) => Buffer.concat([fVarint(1, id), fBytes(4, fBytes(1, Buffer.from(token)))]);

/** Reply{id=1, error=2{code=1, message=2}}: enough to match ids and errors. */
function decodePB(buf) {
  const f = decodeFields(buf);
  const out = { id: f[1]?.[0] };
  if (f[2]) {
    const e = decodeFields(f[2][0]);
    out.error = { code: e[1]?.[0], message: e[2] ? Buffer.from(e[2][0]).toString() : undefined };
  }
  return out;
}

// --- tokens ----------------------------------------------------------------

/** A connection token for user (HS256 with the suite's secret), claims merged. */
export const tokenFor = (secret, user, claims = {}) => signJWT({ sub: user, exp: nowSec(3600), ...claims }, { key: secret });

/** base64url of a JSON object, for hand-built tokens. */
export const b64url = (o) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');

// --- the gRPC server API (publish only), from the spec's field table ------

const API_SCHEMA = `
syntax = "proto3";
package centrifugal.centrifugo.api;
message Error { uint32 code = 1; string message = 2; }
message PublishRequest { string channel = 1; bytes data = 2; string b64data = 3; }
message PublishResult { uint64 offset = 1; string epoch = 2; }
message PublishResponse { Error error = 1; PublishResult result = 2; }
`;
const apiRoot = protobuf.parse(API_SCHEMA, { keepCase: true }).root;
const PubReq = apiRoot.lookupType('centrifugal.centrifugo.api.PublishRequest');
const PubRes = apiRoot.lookupType('centrifugal.centrifugo.api.PublishResponse');

/** Publish over the gRPC API; resolves the decoded response or rejects with the gRPC error. */
export function grpcPublish(port, req, key) {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  if (key) md.set('authorization', `apikey ${key}`);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      '/centrifugal.centrifugo.api.CentrifugoApi/Publish',
      (o) => Buffer.from(PubReq.encode(PubReq.fromObject(o)).finish()),
      (b) => PubRes.toObject(PubRes.decode(b), { longs: Number, defaults: false }),
      req, md, { deadline: Date.now() + 4000 },
      (err, res) => { client.close(); if (err) reject(err); else resolve(res); },
    );
  });
}

// --- checkconfig -------------------------------------------------------------

/** Writes text as a config file (name picks the format) and runs `spindle checkconfig`. */
export async function checkconfig(name, text, { app = false } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spindle-cat-cfg-'));
  const file = path.join(dir, name);
  if (text !== null) fs.writeFileSync(file, text);
  // An app config is checked beside a valid server config that points at it.
  const server = path.join(dir, 'server.json');
  if (app) {
    fs.writeFileSync(server, JSON.stringify({
      address: '127.0.0.1', port: 18000, api_key: 'k', token_hmac_secret_key: 'k'.repeat(32),
      proxy_rpc_endpoint: 'grpc://127.0.0.1:30000', grpc_api: true, grpc_api_address: '127.0.0.1', grpc_api_port: 10000, grpc_api_key: 'g',
    }));
  }
  try {
    const args = app ? ['-c', server, '--app', file] : ['-c', text === null ? name : file];
    const r = await runSpindle(['checkconfig', ...args]);
    return { ...r, out: r.stdout + r.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export { uid };
