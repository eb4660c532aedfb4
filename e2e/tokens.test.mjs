// Token claims beyond "sub" (spec §4.2, §4.3, §1.8): subscription tokens for
// private channels, connection-token server-side channels, expire_at, nbf,
// and the error/disconnect split for bad subscription tokens.

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
    presence: true,
    allow_presence_for_subscriber: true,
    namespaces: [
      { name: 'sec', presence: true, allow_presence_for_subscriber: true },
      { name: 'open', allow_subscribe_for_client: true },
    ],
  });
});
after(() => server?.stop());
afterEach(() => closeClients());

const connToken = (user, extra = {}) => signJWT({ sub: user, exp: nowSec(3600), ...extra }, { key: SECRET });
const subToken = (user, channel, extra = {}) => signJWT({ sub: user, channel, exp: nowSec(3600), ...extra }, { key: SECRET });

for (const proto of PROTOCOLS) {
  describe(`${proto}: subscription tokens`, () => {
    test('a namespace without allow_subscribe refuses a tokenless subscribe with 103', T, async () => {
      const c = newClient(server, proto, { token: connToken(uid('u')) });
      await connected(c);
      const sub = c.newSubscription(`sec:${uid('x')}`);
      const p = waitEvent(sub, 'unsubscribed');
      sub.subscribe();
      assert.equal((await p).code, 103);
    });

    test('private channel with a valid token subscribes; token info becomes chan_info', T, async () => {
      const user = uid('u');
      const channel = `$sec:${uid('x')}`;
      const c = newClient(server, proto, { token: connToken(user) });
      await connected(c);
      const [sub] = await subscribed(c, channel, { token: subToken(user, channel, { info: { seat: 7 } }) });
      const pres = await sub.presence();
      const me = Object.values(pres.clients)[0];
      assert.deepEqual(dec(proto, me.chanInfo), { seat: 7 }, JSON.stringify(pres));
    });

    test('token data claim becomes the subscribed ctx.data', T, async () => {
      const user = uid('u');
      const channel = `$sec:${uid('x')}`;
      const c = newClient(server, proto, { token: connToken(user) });
      await connected(c);
      const [, ctx] = await subscribed(c, channel, { token: subToken(user, channel, { data: { welcome: true } }) });
      assert.deepEqual(dec(proto, ctx.data), { welcome: true }, JSON.stringify(ctx));
    });

    test('expired subscription token → 109, SDK fetches a new one via getToken', T, async () => {
      const user = uid('u');
      const channel = `$sec:${uid('x')}`;
      const c = newClient(server, proto, { token: connToken(user) });
      await connected(c);
      let calls = 0;
      const sub = c.newSubscription(channel, {
        token: subToken(user, channel, { exp: nowSec(-10) }),
        getToken: async () => { calls++; return subToken(user, channel); },
      });
      const errors = collect(sub, 'error');
      const p = waitEvent(sub, 'subscribed', { timeout: 8000 });
      sub.subscribe();
      await p;
      assert.ok(errors.some((e) => e.error?.code === 109), `errors: ${JSON.stringify(errors)}`);
      assert.equal(calls, 1);
    });

    test('subscription token about to expire → SDK sub_refresh via getToken, stays subscribed', T, async () => {
      const user = uid('u');
      const channel = `$sec:${uid('x')}`;
      const c = newClient(server, proto, { token: connToken(user) });
      await connected(c);
      let calls = 0;
      const sub = c.newSubscription(channel, {
        token: subToken(user, channel, { exp: nowSec(2) }),
        getToken: async () => { calls++; return subToken(user, channel); },
      });
      const unsubs = collect(sub, 'unsubscribed');
      const subscribing = collect(sub, 'subscribing');
      const p = waitEvent(sub, 'subscribed');
      sub.subscribe();
      await p;
      await sleep(4000);
      assert.ok(calls >= 1, 'getToken must be called to refresh the subscription (expires/ttl in subscribe result)');
      assert.equal(sub.state, 'subscribed');
      assert.equal(unsubs.length, 0, JSON.stringify(unsubs));
      assert.equal(subscribing.length, 1, `refresh must not resubscribe: ${JSON.stringify(subscribing)}`);
    });

    test('subscription token with a bad signature → unsubscribed 103, connection stays', T, async () => {
      const user = uid('u');
      const channel = `$sec:${uid('x')}`;
      const c = newClient(server, proto, { token: connToken(user) });
      await connected(c);
      const sub = c.newSubscription(channel, { token: signJWT({ sub: user, channel }, { key: 'wrong' }) });
      const p = waitEvent(sub, 'unsubscribed');
      sub.subscribe();
      assert.equal((await p).code, 103);
      await sleep(200);
      assert.equal(c.state, 'connected', `trace: ${traceOf(c)}`);
    });

    test('subscription token for another channel → disconnect 3500', T, async () => {
      const user = uid('u');
      const c = newClient(server, proto, { token: connToken(user) });
      await connected(c);
      const p = waitEvent(c, 'disconnected');
      c.newSubscription(`$sec:${uid('a')}`, { token: subToken(user, `$sec:${uid('b')}`) }).subscribe();
      assert.equal((await p).code, 3500, `trace: ${traceOf(c)}`);
    });

    test('subscription token for another user → disconnect 3500', T, async () => {
      const channel = `$sec:${uid('x')}`;
      const c = newClient(server, proto, { token: connToken(uid('me')) });
      await connected(c);
      const p = waitEvent(c, 'disconnected');
      c.newSubscription(channel, { token: subToken(uid('other'), channel) }).subscribe();
      assert.equal((await p).code, 3500, `trace: ${traceOf(c)}`);
    });
  });

  describe(`${proto}: connection token claims`, () => {
    test('channels claim → server-side subscriptions that receive publications', T, async () => {
      const channel = `open:${uid('srv')}`;
      const c = newClient(server, proto, { token: connToken(uid('u'), { channels: [channel] }) });
      const subP = waitEvent(c, 'subscribed', { filter: (ctx) => ctx.channel === channel, what: 'server-side subscribed from token' });
      await connected(c);
      await subP;
      const pubP = waitEvent(c, 'publication', { filter: (ctx) => ctx.channel === channel });
      await server.apiOK('publish', { channel, data: { hi: 1 } });
      assert.deepEqual(dec(proto, (await pubP).data), { hi: 1 });
    });

    test('channels claim with an unknown namespace → connect error 102 (terminal)', T, async () => {
      const c = newClient(server, proto, { token: connToken(uid('u'), { channels: ['nosuchns:x'] }) });
      const p = waitEvent(c, 'disconnected');
      c.connect();
      assert.equal((await p).code, 102, `trace: ${traceOf(c)}`);
    });

    test('expire_at overrides exp: near expire_at makes the SDK refresh', T, async () => {
      const user = uid('u');
      let calls = 0;
      const c = newClient(server, proto, {
        token: connToken(user, { expire_at: nowSec(2) }),
        getToken: async () => { calls++; return connToken(user); },
      });
      await connected(c);
      await sleep(4000);
      assert.ok(calls >= 1, `expected a refresh driven by expire_at; trace ${traceOf(c)}`);
      assert.equal(c.state, 'connected');
    });

    test('expire_at 0 means never expires even with a near exp', T, async () => {
      const user = uid('u');
      let calls = 0;
      const c = newClient(server, proto, {
        token: signJWT({ sub: user, exp: nowSec(2), expire_at: 0 }, { key: SECRET }),
        getToken: async () => { calls++; return connToken(user); },
      });
      await connected(c);
      await sleep(3500);
      assert.equal(calls, 0, 'no refresh when expire_at is 0');
      assert.equal(c.state, 'connected');
    });

    test('nbf in the future → 109 like an expired token', T, async () => {
      const user = uid('u');
      let calls = 0;
      const c = newClient(server, proto, {
        token: signJWT({ sub: user, nbf: nowSec(600) }, { key: SECRET }),
        getToken: async () => { calls++; return connToken(user); },
      });
      const errors = collect(c, 'error');
      await connected(c, 8000);
      assert.ok(errors.some((e) => e.error?.code === 109), JSON.stringify(errors.map((e) => e.error)));
      assert.equal(calls, 1);
    });

    test('connection token carrying a channel claim is rejected (3500)', T, async () => {
      const c = newClient(server, proto, { token: connToken(uid('u'), { channel: 'open:x' }) });
      const p = waitEvent(c, 'disconnected');
      c.connect();
      assert.equal((await p).code, 3500, `trace: ${traceOf(c)}`);
    });
  });
}
