// A cluster of `spindle server` nodes on Redis for the multi-node suites
// (cluster.test.mjs, faultmatrix.test.mjs): one node's config, starting n of
// them, SDK clients on a node, publishing through a node's API.

import { startServer, newClient, connected, uid, signJWT, nowSec } from './helpers.mjs';

export const SECRET = 'e2e-secret-' + uid();
export const API_KEY = 'e2e-api-' + uid();

/** Server config of one node of a cluster on `redisAddress` (string or list). */
export function nodeConfig(redisAddress, extra = {}) {
  return {
    api_key: API_KEY,
    token_hmac_secret_key: SECRET,
    engine: 'redis',
    redis_address: redisAddress,
    redis_connect_timeout: '500ms',
    redis_io_timeout: '1s',
    global_presence_ttl: '3s',
    client_presence_update_interval: '1s',
    client_channel_position_check_delay: '1s',
    namespaces: [
      {
        name: 'chat', allow_subscribe_for_client: true, allow_publish_for_subscriber: true,
        presence: true, allow_presence_for_subscriber: true,
      },
      { name: 'rec', allow_subscribe_for_client: true, history_size: 1000, history_ttl: '300s', force_recovery: true },
    ],
    ...extra,
  };
}

/** Starts `n` nodes on the given Redis address(es), in parallel. */
export function startNodes(n, redisAddress, extra) {
  return Promise.all(Array.from({ length: n }, () => startServer(nodeConfig(redisAddress, extra))));
}

export const token = (user) => signJWT({ sub: user, exp: nowSec(3600) }, { key: SECRET });

/** A connected SDK client on `node`; user defaults to a fresh id. */
export async function clientOn(node, proto, user = uid('u')) {
  const c = newClient(node, proto, { token: token(user) });
  const ctx = await connected(c);
  c.__user = user;
  c.__id = ctx.client;
  return c;
}

/** Publishes via the HTTP API of `node`; returns the publish result or throws. */
export const publish = (node, channel, data) => node.apiOK('publish', { channel, data });
