// The gRPC server API (spec §3.1, §3.2), called the way RoadRunner's
// centrifuge plugin does. The message schema below is written here from the
// spec's field tables, independently of the server's own .proto, so a field
// number mistake on either side shows up as a failure.

import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';

import grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

import {
  PROTOCOLS, T, startServer, newClient, connected, subscribed, closeClients, waitEvent,
  uid, signJWT, nowSec, dec, freePort, traceOf,
} from './helpers.mjs';

const SCHEMA = `
syntax = "proto3";
package centrifugal.centrifugo.api;
message Error { uint32 code = 1; string message = 2; }
message PublishRequest {
  string channel = 1; bytes data = 2; string b64data = 3; bool skip_history = 4;
  map<string, string> tags = 5; string idempotency_key = 6; bool delta = 7;
}
message PublishResult { uint64 offset = 1; string epoch = 2; }
message PublishResponse { Error error = 1; PublishResult result = 2; }
message BroadcastRequest { repeated string channels = 1; bytes data = 2; }
message BroadcastResult { repeated PublishResponse responses = 1; }
message BroadcastResponse { Error error = 1; BroadcastResult result = 2; }
message InfoRequest {}
message NodeResult { string uid = 1; string name = 2; string version = 3; uint32 num_clients = 4; uint32 num_users = 5; uint32 num_channels = 6; }
message InfoResult { repeated NodeResult nodes = 1; }
message InfoResponse { Error error = 1; InfoResult result = 2; }
message Disconnect { uint32 code = 1; string reason = 2; }
message DisconnectRequest { string user = 1; Disconnect disconnect = 2; string client = 3; repeated string whitelist = 4; string session = 5; }
message DisconnectResult {}
message DisconnectResponse { Error error = 1; DisconnectResult result = 2; }
message ClientInfo { string user = 1; string client = 2; bytes conn_info = 3; bytes chan_info = 4; }
message PresenceRequest { string channel = 1; }
message PresenceResult { map<string, ClientInfo> presence = 1; }
message PresenceResponse { Error error = 1; PresenceResult result = 2; }
message StreamPosition { uint64 offset = 1; string epoch = 2; }
message HistoryRequest { string channel = 1; int32 limit = 2; StreamPosition since = 3; bool reverse = 4; }
message Publication { bytes data = 2; ClientInfo info = 3; uint64 offset = 4; map<string, string> tags = 5; }
message HistoryResult { repeated Publication publications = 1; string epoch = 2; uint64 offset = 3; }
message HistoryResponse { Error error = 1; HistoryResult result = 2; }
message ConnectionsRequest { string user = 1; string expression = 2; }
message ConnectionsResponse { Error error = 1; }
`;
const root = protobuf.parse(SCHEMA, { keepCase: true }).root;
const M = (name) => root.lookupType(`centrifugal.centrifugo.api.${name}`);
const SERVICE = '/centrifugal.centrifugo.api.CentrifugoApi';

/** Unary call by method name; resolves the decoded response object or rejects with the gRPC error. */
function call(client, method, reqType, resType, req, { key } = {}) {
  const md = new grpc.Metadata();
  if (key) md.set('authorization', `apikey ${key}`);
  const Req = M(reqType);
  const Res = M(resType);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      `${SERVICE}/${method}`,
      (obj) => Buffer.from(Req.encode(Req.fromObject(obj)).finish()),
      (buf) => Res.toObject(Res.decode(buf), { longs: Number, defaults: false }),
      req, md, { deadline: Date.now() + 5000 },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
  });
}

const SECRET = 'e2e-secret-' + uid();
const GRPC_KEY = 'e2e-grpc-' + uid();

let server;
let grpcClient;
before(async () => {
  const grpcPort = await freePort();
  server = await startServer({
    token_hmac_secret_key: SECRET,
    grpc_api: true,
    grpc_api_address: '127.0.0.1',
    grpc_api_port: grpcPort,
    grpc_api_key: GRPC_KEY,
    allow_subscribe_for_client: true,
    namespaces: [{ name: 'hist', allow_subscribe_for_client: true, presence: true, history_size: 10, history_ttl: '60s' }],
  });
  grpcClient = new grpc.Client(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
});
after(async () => { grpcClient?.close(); await server?.stop(); });
afterEach(() => closeClients());

const api = (method, req, key = GRPC_KEY) => call(grpcClient, method, `${method}Request`, `${method}Response`, req, { key });

async function client(proto, user = uid('u')) {
  const c = newClient(server, proto, { token: signJWT({ sub: user, exp: nowSec(3600) }, { key: SECRET }) });
  const ctx = await connected(c);
  return { c, id: ctx.client, user };
}

describe('gRPC API authentication', () => {
  test('no authorization metadata → UNAUTHENTICATED', T, async () => {
    await assert.rejects(api('Info', {}, null), (e) => e.code === grpc.status.UNAUTHENTICATED);
  });
  test('wrong key → UNAUTHENTICATED', T, async () => {
    await assert.rejects(api('Info', {}, 'wrong'), (e) => e.code === grpc.status.UNAUTHENTICATED);
  });
  test('"apikey <KEY>" → Info answers with this node', T, async () => {
    const res = await api('Info', {});
    assert.equal(res.error, undefined, JSON.stringify(res));
    assert.equal(res.result?.nodes?.length, 1, JSON.stringify(res));
    assert.ok(res.result.nodes[0].uid);
  });
  test('a PRO-only method (Connections) → UNIMPLEMENTED', T, async () => {
    await assert.rejects(api('Connections', { user: 'x' }), (e) => e.code === grpc.status.UNIMPLEMENTED);
  });
});

for (const proto of PROTOCOLS) {
  describe(`${proto}: gRPC API acting on SDK clients`, () => {
    test('Publish reaches a subscriber; result carries offset and epoch', T, async () => {
      const channel = `hist:${uid('g')}`;
      const a = await client(proto);
      const [sub] = await subscribed(a.c, channel);
      const p = waitEvent(sub, 'publication');
      const res = await api('Publish', { channel, data: Buffer.from(JSON.stringify({ via: 'grpc' })), tags: { k: 'v' } });
      assert.equal(res.error, undefined, JSON.stringify(res));
      assert.equal(res.result?.offset, 1, JSON.stringify(res));
      assert.ok(res.result?.epoch, JSON.stringify(res));
      const pub = await p;
      assert.deepEqual(dec(proto, pub.data), { via: 'grpc' });
      assert.deepEqual(pub.tags, { k: 'v' });
    });

    test('Broadcast answers one response per channel', T, async () => {
      const ch1 = `hist:${uid('b')}`;
      const res = await api('Broadcast', { channels: [ch1, 'nosuchns:x'], data: Buffer.from('{"b":1}') });
      assert.equal(res.result?.responses?.length, 2, JSON.stringify(res));
      assert.equal(res.result.responses[0].error, undefined, JSON.stringify(res));
      assert.equal(res.result.responses[1].error?.code, 102, JSON.stringify(res));
    });

    test('Disconnect → SDK sees 3503', T, async () => {
      const a = await client(proto);
      const p = waitEvent(a.c, 'disconnected');
      const res = await api('Disconnect', { user: a.user });
      assert.equal(res.error, undefined, JSON.stringify(res));
      assert.equal((await p).code, 3503, `trace: ${traceOf(a.c)}`);
    });

    test('Presence and History read back what the SDK and Publish did', T, async () => {
      const channel = `hist:${uid('ph')}`;
      const a = await client(proto);
      await subscribed(a.c, channel);
      await api('Publish', { channel, data: Buffer.from('{"n":1}') });
      await api('Publish', { channel, data: Buffer.from('{"n":2}') });
      const pres = await api('Presence', { channel });
      assert.deepEqual(Object.keys(pres.result?.presence ?? {}), [a.id], JSON.stringify(pres));
      assert.equal(pres.result.presence[a.id].user, a.user);
      const hist = await api('History', { channel, limit: 10 });
      assert.deepEqual((hist.result?.publications ?? []).map((x) => x.offset), [1, 2], JSON.stringify(hist));
      assert.deepEqual(hist.result.publications.map((x) => JSON.parse(Buffer.from(x.data).toString())), [{ n: 1 }, { n: 2 }]);
    });
  });
}

describe('gRPC API errors in the body', () => {
  test('Publish to an unknown namespace → status OK, error 102 in the response', T, async () => {
    const res = await api('Publish', { channel: 'nosuchns:x', data: Buffer.from('{}') });
    assert.equal(res.error?.code, 102, JSON.stringify(res));
  });
  test('Publish without data → error 107', T, async () => {
    const res = await api('Publish', { channel: uid('c') });
    assert.equal(res.error?.code, 107, JSON.stringify(res));
  });
});
