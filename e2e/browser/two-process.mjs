// The demo as two processes, like examples/ticket-booking's README:
// `spindle server -c examples/ticket-booking/config.json` and the
// ticket-booking app, which serves the page. Everything runs on free
// loopback ports: the file's fixed ports are overridden by flags and
// CENTRIFUGO_* variables, and the app gets its own .rr.yaml.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { REPO, SPINDLE_BIN, freePort, startDev } from './helpers.mjs';

/** The app under test: TICKET_BOOKING_BIN or bin/ticket-booking at the repo root (built when missing). */
export const APP_BIN = path.resolve(REPO, process.env.TICKET_BOOKING_BIN || 'bin/ticket-booking');

const CONFIG = path.join(REPO, 'examples', 'ticket-booking', 'config.json');

// The suite's documented setup builds only bin/spindle; build the app too
// rather than fail on a missing file (a few seconds with a warm Go cache).
function buildApp() {
  const res = spawnSync('go', ['build', '-o', APP_BIN, './examples/ticket-booking'], { cwd: REPO, encoding: 'utf8', timeout: 40000 });
  if (res.status !== 0) {
    throw new Error(`${APP_BIN} is missing and \`go build -o bin/ticket-booking ./examples/ticket-booking\` failed: ${res.error || res.stderr}`);
  }
}

/**
 * Starts the server, then the app; returns {server, app, url, startApp,
 * restartServer}. startApp() starts the app again on the same ports (after
 * app.kill()), restartServer() the server (after server.kill()).
 * Both are stopped by the caller's t.after hooks.
 */
export async function twoProcesses(t, env = {}) {
  if (!fs.existsSync(APP_BIN) && !process.env.TICKET_BOOKING_BIN) buildApp();
  const [wsPort, apiPort, proxyPort, pagePort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const proxy = `grpc://127.0.0.1:${proxyPort}`;
  const page = `http://127.0.0.1:${pagePort}`;

  const startServer = () => startDev({
    port: wsPort,
    ready: '/health',
    cmd: [SPINDLE_BIN, 'server', '-c', CONFIG, '--port', String(wsPort), '--grpc_api_port', String(apiPort), '--health'],
    env: {
      ...env,
      CENTRIFUGO_PROXY_CONNECT_ENDPOINT: proxy,
      CENTRIFUGO_PROXY_RPC_ENDPOINT: proxy,
      CENTRIFUGO_PROXY_SUBSCRIBE_ENDPOINT: proxy,
      CENTRIFUGO_CHANNEL_PROXY_SHARED_POLL_REFRESH_ENDPOINT: proxy,
      CENTRIFUGO_ALLOWED_ORIGINS: page,
    },
  });
  const server = await startServer();
  t.after(() => server.stop());

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spindle-two-process-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const rr = path.join(dir, '.rr.yaml');
  fs.writeFileSync(rr, [
    "version: '3'",
    'centrifuge:',
    `  proxy_address: tcp://127.0.0.1:${proxyPort}`,
    `  grpc_api_address: tcp://127.0.0.1:${apiPort}`,
    '  grpc_api_key: dev-grpc-key',
    '  api_timeout: 5s',
    '',
  ].join('\n'));

  const startApp = async () => {
    const app = await startDev({
      port: pagePort,
      cmd: [APP_BIN, '-c', rr, '-http', `127.0.0.1:${pagePort}`, '-ws', `ws://127.0.0.1:${wsPort}/connection/websocket`],
      env,
    });
    t.after(() => app.stop());
    return app;
  };
  const app = await startApp();
  // restartServer starts the server again on the same ports (after
  // server.kill()); the app keeps running meanwhile.
  const restartServer = async () => {
    const again = await startServer();
    t.after(() => again.stop());
    return again;
  };
  return { server, app, url: `${page}/`, startApp, restartServer };
}
