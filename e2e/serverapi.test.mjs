// Server API actions that reach connected SDK clients (spec §3.2, §1.11):
// disconnect (terminal and reconnecting codes, per user and per client),
// unsubscribe (code 2000) and server-side subscribe.

import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';

import {
  PROTOCOLS, T, startServer, newClient, connected, subscribed, closeClients, waitEvent, collect,
  sleep, uid, signJWT, nowSec, dec, traceOf,
} from './helpers.mjs';

const SECRET = 'e2e-secret-' + uid();
const API_KEY = 'e2e-api-' + uid();

let server;
before(async () => {
  server = await startServer({
    token_hmac_secret_key: SECRET,
    api_key: API_KEY,
    allow_subscribe_for_client: true,
    namespaces: [{ name: 'chat', allow_subscribe_for_client: true }],
  });
});
after(() => server?.stop());
afterEach(() => closeClients());

async function client(proto, user) {
  const c = newClient(server, proto, { token: signJWT({ sub: user, exp: nowSec(3600) }, { key: SECRET }) });
  const ctx = await connected(c);
  return { c, id: ctx.client, user };
}

for (const proto of PROTOCOLS) {
  describe(`${proto}: API disconnect`, () => {
    test('default disconnect → SDK terminal disconnected with 3503, no reconnect', T, async () => {
      const u = await client(proto, uid('dc'));
      const connecting = collect(u.c, 'connecting');
      const p = waitEvent(u.c, 'disconnected', { what: 'disconnect after API call' });
      await server.apiOK('disconnect', { user: u.user });
      const ctx = await p;
      assert.equal(ctx.code, 3503, `trace: ${traceOf(u.c)}`);
      await sleep(800);
      assert.equal(u.c.state, 'disconnected');
      assert.equal(connecting.length, 0, `trace: ${traceOf(u.c)}`);
    });

    test('disconnect with a reconnect code (3011) → SDK reconnects', T, async () => {
      const u = await client(proto, uid('rc'));
      const connectingP = waitEvent(u.c, 'connecting', { what: 'connecting after 3011' });
      await server.apiOK('disconnect', { user: u.user, disconnect: { code: 3011, reason: 'force reconnect' } });
      const ctx = await connectingP;
      assert.equal(ctx.code, 3011, `trace: ${traceOf(u.c)}`);
      await waitEvent(u.c, 'connected', { what: 'reconnected after 3011' });
    });

    test('custom terminal app code 4501 with reason reaches the SDK', T, async () => {
      const u = await client(proto, uid('app'));
      const p = waitEvent(u.c, 'disconnected');
      await server.apiOK('disconnect', { user: u.user, disconnect: { code: 4501, reason: 'banned' } });
      const ctx = await p;
      assert.equal(ctx.code, 4501);
      assert.equal(ctx.reason, 'banned');
    });

    test('disconnect by client id leaves the same user\'s other connection alone', T, async () => {
      const user = uid('two');
      const first = await client(proto, user);
      const second = await client(proto, user);
      const secondEvents = collect(second.c, 'disconnected');
      const p = waitEvent(first.c, 'disconnected');
      await server.apiOK('disconnect', { user, client: first.id });
      assert.equal((await p).code, 3503);
      await sleep(500);
      assert.equal(second.c.state, 'connected');
      assert.equal(secondEvents.length, 0);
    });

    test('whitelist keeps the listed connection', T, async () => {
      const user = uid('wl');
      const keep = await client(proto, user);
      const drop = await client(proto, user);
      const p = waitEvent(drop.c, 'disconnected');
      await server.apiOK('disconnect', { user, whitelist: [keep.id] });
      await p;
      await sleep(300);
      assert.equal(keep.c.state, 'connected');
    });
  });

  describe(`${proto}: API unsubscribe / subscribe`, () => {
    test('unsubscribe → subscription gets unsubscribed with code 2000, connection stays', T, async () => {
      const u = await client(proto, uid('un'));
      const channel = `chat:${uid('c')}`;
      const [sub] = await subscribed(u.c, channel);
      const p = waitEvent(sub, 'unsubscribed', { what: 'unsubscribed push' });
      await server.apiOK('unsubscribe', { user: u.user, channel });
      const ctx = await p;
      assert.equal(ctx.code, 2000, JSON.stringify(ctx));
      assert.equal(sub.state, 'unsubscribed');
      assert.equal(u.c.state, 'connected');
      // No more publications for that channel.
      const pubs = collect(sub, 'publication');
      await server.apiOK('publish', { channel, data: { after: true } });
      await sleep(300);
      assert.equal(pubs.length, 0);
    });

    test('server-side subscribe → client-level subscribed event and publications', T, async () => {
      const u = await client(proto, uid('ss'));
      const channel = `chat:${uid('srv')}`;
      const subP = waitEvent(u.c, 'subscribed', { filter: (ctx) => ctx.channel === channel, what: 'server-side subscribed' });
      await server.apiOK('subscribe', { user: u.user, channel });
      await subP;
      const pubP = waitEvent(u.c, 'publication', { filter: (ctx) => ctx.channel === channel });
      await server.apiOK('publish', { channel, data: { srv: 1 } });
      assert.deepEqual(dec(proto, (await pubP).data), { srv: 1 });
    });
  });
}
