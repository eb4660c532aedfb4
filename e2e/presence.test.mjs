// Presence and join/leave (spec §1.9, §5.3): join/leave pushes only to
// subscribers that asked for them, presence / presence_stats from the SDK,
// and the permission and availability errors around them.

import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';

import {
  PROTOCOLS, T, startServer, newClient, connected, subscribed, closeClients, waitEvent, collect,
  sleep, uid, signJWT, nowSec, dec, until,
} from './helpers.mjs';

const SECRET = 'e2e-secret-' + uid();
const API_KEY = 'e2e-api-' + uid();

let server;
before(async () => {
  server = await startServer({
    token_hmac_secret_key: SECRET,
    api_key: API_KEY,
    namespaces: [
      { name: 'room', presence: true, join_leave: true, allow_subscribe_for_client: true, allow_presence_for_subscriber: true },
      { name: 'quiet', presence: true, allow_subscribe_for_client: true, allow_presence_for_subscriber: true },
      { name: 'nopres', allow_subscribe_for_client: true, allow_presence_for_client: true },
    ],
  });
});
after(() => server?.stop());
afterEach(() => closeClients());

/** Connected client for `user`; the token's info claim becomes conn_info. */
async function client(proto, user, info) {
  const claims = { sub: user, exp: nowSec(3600), ...(info ? { info } : {}) };
  const c = newClient(server, proto, { token: signJWT(claims, { key: SECRET }) });
  const ctx = await connected(c);
  return { c, id: ctx.client, user };
}

for (const proto of PROTOCOLS) {
  describe(`${proto}: join/leave`, () => {
    test('a joinLeave subscriber sees others join and leave (with conn_info); a plain subscriber does not', T, async () => {
      const channel = `room:${uid('jl')}`;
      const watcher = await client(proto, uid('watch'));
      const plain = await client(proto, uid('plain'));
      const bob = await client(proto, uid('bob'), { name: 'Bob' });
      const [wsub] = await subscribed(watcher.c, channel, { joinLeave: true });
      const [psub] = await subscribed(plain.c, channel);
      const plainJoins = collect(psub, 'join');
      const plainLeaves = collect(psub, 'leave');

      const joinP = waitEvent(wsub, 'join', { filter: (ctx) => ctx.info?.user === bob.user, what: 'join of bob' });
      const [bsub] = await subscribed(bob.c, channel);
      const join = await joinP;
      assert.equal(join.channel, channel);
      assert.equal(join.info.client, bob.id);
      assert.deepEqual(dec(proto, join.info.connInfo), { name: 'Bob' }, `join info: ${JSON.stringify(join.info)}`);

      const leaveP = waitEvent(wsub, 'leave', { filter: (ctx) => ctx.info?.user === bob.user, what: 'leave of bob' });
      bsub.unsubscribe();
      const leave = await leaveP;
      assert.equal(leave.info.client, bob.id);

      await sleep(300);
      assert.equal(plainJoins.length, 0, `subscriber without joinLeave got joins: ${JSON.stringify(plainJoins)}`);
      assert.equal(plainLeaves.length, 0, `subscriber without joinLeave got leaves: ${JSON.stringify(plainLeaves)}`);
    });

    test('disconnecting a subscriber produces a leave', T, async () => {
      const channel = `room:${uid('jl')}`;
      const watcher = await client(proto, uid('watch'));
      const carol = await client(proto, uid('carol'));
      const [wsub] = await subscribed(watcher.c, channel, { joinLeave: true });
      await subscribed(carol.c, channel);
      const leaveP = waitEvent(wsub, 'leave', { filter: (ctx) => ctx.info?.client === carol.id, what: 'leave of carol after disconnect' });
      carol.c.disconnect();
      await leaveP;
    });

    test('namespace without join_leave: no join pushes even when asked', T, async () => {
      const channel = `quiet:${uid('q')}`;
      const watcher = await client(proto, uid('watch'));
      const other = await client(proto, uid('other'));
      const [wsub] = await subscribed(watcher.c, channel, { joinLeave: true });
      const joins = collect(wsub, 'join');
      await subscribed(other.c, channel);
      await sleep(500);
      assert.equal(joins.length, 0, JSON.stringify(joins));
    });
  });

  describe(`${proto}: presence`, () => {
    test('presence lists every subscriber by client id; presenceStats counts clients and users', T, async () => {
      const channel = `room:${uid('p')}`;
      const ann = await client(proto, uid('ann'), { role: 'admin' });
      const ben = await client(proto, uid('ben'));
      const ben2 = await client(proto, ben.user);
      const [asub] = await subscribed(ann.c, channel);
      await subscribed(ben.c, channel);
      await subscribed(ben2.c, channel);

      const pres = await asub.presence();
      const ids = Object.keys(pres.clients).sort();
      assert.deepEqual(ids, [ann.id, ben.id, ben2.id].sort(), JSON.stringify(pres));
      assert.equal(pres.clients[ann.id].user, ann.user);
      assert.equal(pres.clients[ann.id].client, ann.id);
      assert.deepEqual(dec(proto, pres.clients[ann.id].connInfo), { role: 'admin' });
      assert.equal(pres.clients[ben2.id].user, ben.user);

      const stats = await asub.presenceStats();
      assert.deepEqual({ numClients: stats.numClients, numUsers: stats.numUsers }, { numClients: 3, numUsers: 2 });

      ben2.c.getSubscription(channel).unsubscribe();
      await until(async () => (await asub.presenceStats()).numClients === 2, { timeout: 3000, what: 'presence to drop the unsubscribed client' });
      const after = await asub.presence();
      assert.ok(!(ben2.id in after.clients), JSON.stringify(after));
    });

    test('presence for a non-subscriber (allow_presence_for_subscriber) → 103', T, async () => {
      const channel = `room:${uid('p')}`;
      const c = await client(proto, uid('x'));
      await assert.rejects(c.c.presence(channel), (e) => e.code === 103);
      await assert.rejects(c.c.presenceStats(channel), (e) => e.code === 103);
      assert.equal(c.c.state, 'connected');
    });

    test('presence in a namespace without presence → 108', T, async () => {
      const channel = `nopres:${uid('p')}`;
      const c = await client(proto, uid('x'));
      await subscribed(c.c, channel);
      await assert.rejects(c.c.presence(channel), (e) => e.code === 108);
    });

    test('API presence and presence_stats match the SDK view', T, async () => {
      const channel = `room:${uid('p')}`;
      const a = await client(proto, uid('a'));
      await subscribed(a.c, channel);
      const p = await server.apiOK('presence', { channel });
      assert.deepEqual(Object.keys(p.presence), [a.id], JSON.stringify(p));
      assert.equal(p.presence[a.id].user, a.user);
      const s = await server.apiOK('presence_stats', { channel });
      assert.deepEqual(s, { num_clients: 1, num_users: 1 });
    });
  });
}
