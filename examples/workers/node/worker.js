'use strict';
// A Node worker for `spindle app` (or RoadRunner's centrifuge plugin): it
// answers every proxied event. Copy this directory, run `npm ci`, and point
// .rr.yaml's server.command at `node worker.js`.
//
//   connect     user = data.token (the client's connect data), "" if absent;
//               data.ttl (seconds) makes the connection expire, so that
//               refresh gets called
//   refresh     extends the connection by an hour
//   subscribe   allowed, except channels starting with "private:" (error 103);
//               data.ttl makes the subscription expire (then subrefresh)
//   publish     allowed, the data gets a "worker" field added
//   rpc         echo (data back), whoami ({user, client}), shout (publishes
//               {text, from} into data.channel through rpc.listen)
//   subrefresh  extends the subscription by an hour
//   map_publish a client write to a map channel: allowed, the data gets a
//               "worker" field added (like publish)
//   map_remove  a client removing a key of a map channel: allowed for keys
//               named "<user>:…" (a user's own), else error 1403
//   shared_poll_refresh
//               the server polling a shared-poll channel for the items its
//               subscribers track: every requested key gets data
//               {"key": key, "score": <the number the key ends with, 0 if
//               none>} and version 1 (so a versioned channel sees version 1
//               once, then no change)
//
// map_publish, map_remove and shared_poll_refresh are spindle's names for
// Centrifugo v6.8's MapPublish, MapRemove and SharedPollRefresh; RoadRunner's
// plugin has none of them.
//
// Messages are the proxy and API .proto files of the spindle repository,
// loaded at start from SPINDLE_PROTO_DIR (default: the repository's proto/).
const path = require('path');
const protobuf = require('protobufjs');
const { serveWorker, RPC } = require('./goridge');

const protoDir = process.env.SPINDLE_PROTO_DIR || path.join(__dirname, '..', '..', '..', 'proto');
const root = protobuf.loadSync([path.join(protoDir, 'proxy.proto'), path.join(protoDir, 'api.proto')]);
const proxy = (name) => root.lookupType(`centrifugal.centrifugo.proxy.${name}`);
const api = (name) => root.lookupType(`centrifugal.centrifugo.api.${name}`);

const rpc = new RPC();
const json = (buf) => (buf && buf.length ? JSON.parse(Buffer.from(buf).toString()) : {});
const bytes = (v) => Buffer.from(JSON.stringify(v));
const now = () => Math.floor(Date.now() / 1000);
const inAnHour = () => now() + 3600;
const expiry = (data) => (json(data).ttl ? now() + Number(json(data).ttl) : 0);
// The number a key ends with ("match-42" → 42), 0 if none.
const scoreOf = (key) => Number((/(\d+)$/.exec(key) || [])[1] || 0);

/** Publishes data into channel through rpc.listen (centrifuge.Publish, protobuf codec). */
async function publish(channel, data) {
  const req = api('PublishRequest');
  const out = await rpc.call('centrifuge.Publish', req.encode(req.create({ channel, data: bytes(data) })).finish());
  const resp = api('PublishResponse').decode(out);
  if (resp.error) throw new Error(`publish failed: ${resp.error.code} ${resp.error.message}`);
  return resp.result || {};
}

const rpcMethods = {
  echo: (req) => ({ data: req.data }),
  whoami: (req) => ({ data: bytes({ user: req.user, client: req.client }) }),
  shout: async (req) => {
    const { channel, text } = json(req.data);
    const res = await publish(channel, { text, from: req.user });
    return { data: bytes({ published: true, offset: Number(res.offset || 0) }) };
  },
};

/**
 * Event handlers by the type RoadRunner puts in the context. Each gets the
 * decoded request and returns the response object ({result}, {error} or
 * {disconnect}) of that event type.
 */
const handlers = {
  connect: (req) => ({ result: { user: String(json(req.data).token || ''), expireAt: expiry(req.data) } }),
  refresh: () => ({ result: { expireAt: inAnHour() } }),
  subscribe: (req) => (req.channel.startsWith('private:')
    ? { error: { code: 103, message: 'permission denied' } }
    : { result: { info: bytes({ by: 'node-worker' }), expireAt: expiry(req.data) } }),
  publish: (req) => ({ result: { data: bytes({ ...json(req.data), worker: 'node' }) } }),
  rpc: async (req) => {
    const m = rpcMethods[req.method];
    if (!m) return { error: { code: 104, message: 'method not found' } };
    return { result: await m(req) };
  },
  subrefresh: () => ({ result: { expireAt: inAnHour() } }),
  map_publish: (req) => ({ result: { data: bytes({ ...json(req.data), worker: 'node' }) } }),
  map_remove: (req) => (req.user && req.key.startsWith(`${req.user}:`)
    ? { result: {} }
    : { error: { code: 1403, message: 'only your own keys can be removed' } }),
  shared_poll_refresh: (req) => ({
    result: { items: req.items.map(({ key }) => ({ key, data: bytes({ key, score: scoreOf(key) }), version: 1 })) },
  }),
};

const messages = {
  connect: ['ConnectRequest', 'ConnectResponse'],
  refresh: ['RefreshRequest', 'RefreshResponse'],
  subscribe: ['SubscribeRequest', 'SubscribeResponse'],
  publish: ['PublishRequest', 'PublishResponse'],
  rpc: ['RPCRequest', 'RPCResponse'],
  subrefresh: ['SubRefreshRequest', 'SubRefreshResponse'],
  map_publish: ['MapPublishRequest', 'MapPublishResponse'],
  map_remove: ['MapRemoveRequest', 'MapRemoveResponse'],
  shared_poll_refresh: ['SharedPollRefreshRequest', 'SharedPollRefreshResponse'],
};

/** Decodes one worker request, runs its handler, encodes the response. */
async function handle(context, body, table = handlers) {
  let type = (context.type || [])[0];
  if (type === 'sub_refresh') type = 'subrefresh'; // tolerate the other spelling
  const names = messages[type];
  if (!names) throw new Error(`unknown request type ${type}`);
  const [reqType, respType] = names.map(proxy);
  const req = reqType.toObject(reqType.decode(body), { defaults: true, longs: Number });
  req.headers = context;
  const resp = await table[type](req);
  const R = respType;
  return Buffer.from(R.encode(R.fromObject(resp)).finish());
}

module.exports = { handlers, rpcMethods, handle, publish, rpc };

if (require.main === module) serveWorker((context, body) => handle(context, body));
