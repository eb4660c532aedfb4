// Fossil delta compression with the real SDK (spec transports §3): the
// subscribe reply says delta, the SDK gets 1 whole payload and then
// patches it decodes itself, on JSON and Protobuf, over WebSocket and
// HTTP-streaming; after a recovery the first recovered payload is whole
// and the rest are patches; a namespace without fossil sends whole
// payloads; and the bytes on the wire shrink.

import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';

import {
  PROTOCOLS, T, startServer, newClient, connected, subscribed, closeClients, collect,
  uid, signJWT, nowSec, dec, until, startRelay, waitEvent, traceOf,
} from './helpers.mjs';

const SECRET = 'e2e-secret-' + uid();
const API_KEY = 'e2e-api-' + uid();

let server;
before(async () => {
  server = await startServer({
    token_hmac_secret_key: SECRET,
    api_key: API_KEY,
    http_stream: true,
    namespaces: [
      { name: 'delta', allow_subscribe_for_client: true, history_size: 100, history_ttl: '300s', force_recovery: true, allowed_delta_types: ['fossil'], delta_publish: true },
      { name: 'apidelta', allow_subscribe_for_client: true, history_size: 100, history_ttl: '300s', allowed_delta_types: ['fossil'] },
      { name: 'plain', allow_subscribe_for_client: true, history_size: 100, history_ttl: '300s' },
    ],
  });
});
after(() => server?.stop());
afterEach(() => closeClients());

const token = () => signJWT({ sub: uid('u'), exp: nowSec(3600) }, { key: SECRET });

// A live feed's document: 40 quotes, one of which changes per publication.
function doc(i) {
  const quotes = Array.from({ length: 40 }, (_, k) => ({ sym: `S${k}`, bid: 100 + k, ask: 101 + k, vol: 1000 * k }));
  quotes[i % 40].bid += i;
  return { seq: i, quotes };
}

async function publishDocs(channel, from, to, extra = {}) {
  for (let i = from; i <= to; i++) await server.apiOK('publish', { channel, data: doc(i), ...extra });
}

const transports = (proto) => [
  { name: 'websocket', opts: {} },
  { name: 'http_stream', opts: { url: [{ transport: 'http_stream', endpoint: `${server.httpUrl}/connection/http_stream` }], emulationEndpoint: `${server.httpUrl}/emulation`, fetch, readableStream: ReadableStream } },
].map((t) => ({ ...t, proto }));

for (const proto of PROTOCOLS) {
  describe(`${proto}: fossil delta`, () => {
    test('websocket and http_stream: 1 whole payload then patches the SDK decodes, and fewer bytes', T, async () => {
      for (const { name, opts } of transports(proto)) {
        const c = newClient(server, proto, { token: token(), ...opts });
        await connected(c);
        const channel = `delta:${uid('d')}`;
        const [sub, ctx] = await subscribed(c, channel, { delta: 'fossil' });
        assert.equal(sub.deltaStats().numPublications, 0);
        const pubs = collect(sub, 'publication');
        await publishDocs(channel, 1, 20);
        await until(() => pubs.length === 20, { what: `20 publications over ${name}` });
        assert.deepEqual(pubs.map((p) => dec(proto, p.data)), Array.from({ length: 20 }, (_, k) => doc(k + 1)), `${name}: decoded payloads`);
        const stats = sub.deltaStats();
        assert.equal(stats.numFullPayloads, 1, `${name}: ${JSON.stringify(stats)}`);
        assert.equal(stats.numDeltaPayloads, 19, `${name}: ${JSON.stringify(stats)}`);
        assert.ok(stats.bytesReceived * 5 < stats.bytesDecoded, `${name}: patches must be far smaller: ${JSON.stringify(stats)}`);
        assert.ok(ctx.recoverable, 'namespace forces recovery');
        c.disconnect();
      }
    });

    test('recovery with delta: the first recovered payload whole, the rest patches, then live patches', T, async () => {
      const relay = await startRelay(server.port);
      try {
        const c = newClient(server, proto, { token: token(), url: `ws://127.0.0.1:${relay.port}/connection/websocket` });
        await connected(c);
        const channel = `delta:${uid('r')}`;
        const [sub] = await subscribed(c, channel, { delta: 'fossil' });
        const pubs = collect(sub, 'publication');
        await publishDocs(channel, 1, 3);
        await until(() => pubs.length === 3, { what: 'live publications' });
        const resubscribed = waitEvent(sub, 'subscribed', { what: 'resubscribe after the drop' });
        const reconnecting = waitEvent(c, 'connecting');
        relay.drop();
        await reconnecting;
        await publishDocs(channel, 4, 8);
        const ctx = await resubscribed;
        assert.equal(ctx.recovered, true, JSON.stringify(ctx));
        await until(() => pubs.length === 8, { what: `recovered publications; trace: ${traceOf(c)}` });
        await publishDocs(channel, 9, 10);
        await until(() => pubs.length === 10, { what: 'live after recovery' });
        assert.deepEqual(pubs.map((p) => dec(proto, p.data).seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        const stats = sub.deltaStats();
        // 1 whole at the start, 1 whole at the head of the recovered batch.
        assert.equal(stats.numFullPayloads, 2, JSON.stringify(stats));
        assert.equal(stats.numDeltaPayloads, 8, JSON.stringify(stats));
      } finally {
        await relay.close();
      }
    });

    test('without delta_publish only publishes with the API delta flag are patched; a namespace without fossil sends whole payloads', T, async () => {
      const c = newClient(server, proto, { token: token() });
      await connected(c);
      const apiCh = `apidelta:${uid('a')}`;
      const plainCh = `plain:${uid('p')}`;
      const [apiSub, apiCtx] = await subscribed(c, apiCh, { delta: 'fossil' });
      const [plainSub] = await subscribed(c, plainCh, { delta: 'fossil' });
      const apiPubs = collect(apiSub, 'publication');
      const plainPubs = collect(plainSub, 'publication');
      await publishDocs(apiCh, 1, 3);
      await publishDocs(apiCh, 4, 6, { delta: true });
      await publishDocs(plainCh, 1, 3, { delta: true });
      await until(() => apiPubs.length === 6 && plainPubs.length === 3, { what: 'all publications' });
      assert.deepEqual(apiPubs.map((p) => dec(proto, p.data).seq), [1, 2, 3, 4, 5, 6]);
      const s = apiSub.deltaStats();
      assert.deepEqual([s.numFullPayloads, s.numDeltaPayloads], [3, 3], `only the flagged ones are patches: ${JSON.stringify(s)}`);
      assert.equal(plainSub.deltaStats().numDeltaPayloads, 0);
      assert.ok(apiCtx, 'subscribed');
    });
  });
}
