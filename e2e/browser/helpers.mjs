// Harness for the browser tests: starts `spindle dev` (the built binary, or
// any command line), opens the demo page in headless Chromium through
// playwright-core, and makes sure no server or browser outlives the test
// process.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

/** This suite's directory. */
export const DIR = path.dirname(fileURLToPath(import.meta.url));

/** The repository root (two levels up). */
export const REPO = path.resolve(DIR, '..', '..');

/** The binary under test: SPINDLE_BIN or bin/spindle at the repo root. */
export const SPINDLE_BIN = path.resolve(REPO, process.env.SPINDLE_BIN || 'bin/spindle');

/** Chromium from Debian's package; CHROMIUM overrides. */
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** Screenshots go here (gitignored). */
export const ARTIFACTS = path.join(DIR, 'artifacts');

/** Every test is bounded. */
export const T = { timeout: 60000 };

const READY_MS = 15000;

// ---------------------------------------------------------------------------
// Process bookkeeping. Servers run in their own process group so that a
// `go run` wrapper and the binary it starts die together. If this process
// dies, a watchdog shell holding our pipe kills the group.

const live = new Set();

process.on('exit', () => {
  for (const p of live) killGroup(p, 'SIGKILL');
});

function killGroup(child, signal) {
  try { process.kill(-child.pid, signal); } catch { /* gone */ }
}

function watchdog(child) {
  const dog = spawn('sh', ['-c', `cat >/dev/null; kill -9 -${child.pid} 2>/dev/null; exit 0`], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  dog.unref();
  dog.stdin.on('error', () => {});
  if (typeof dog.stdin.unref === 'function') dog.stdin.unref();
  return () => { try { dog.stdin.end(); } catch { /* closed */ } };
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a server process and waits until GET <ready> (default /) answers
 * on port. cmd defaults to `bin/spindle dev --port <port>`.
 */
export async function startDev({ port, cmd, env = {}, cwd = REPO, ready = '/' } = {}) {
  const argv = cmd || [SPINDLE_BIN, 'dev', '--port', String(port)];
  if (!cmd && !fs.existsSync(SPINDLE_BIN)) {
    throw new Error(`${SPINDLE_BIN} is missing: build it with \`go build -o bin/spindle ./cmd/spindle\``);
  }
  const child = spawn(argv[0], argv.slice(1), {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  live.add(child);
  const release = watchdog(child);
  let output = '';
  const keep = (chunk) => {
    output += chunk;
    if (process.env.E2E_SERVER_LOG) process.stderr.write(chunk);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    live.delete(child);
    release();
    resolve({ code, signal });
  }));

  const server = {
    child,
    port,
    url: `http://127.0.0.1:${port}/`,
    output: () => output,
    exited,
    /** Kills the whole process group at once (a crash, not a shutdown). */
    async kill() {
      killGroup(child, 'SIGKILL');
      await exited;
    },
    async stop() {
      killGroup(child, 'SIGTERM');
      const t = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };

  const deadline = Date.now() + (cmd ? 50000 : READY_MS);
  for (;;) {
    const state = await Promise.race([exited.then((e) => ({ exited: e })), probe(server.url + ready.replace(/^\//, ''))]);
    if (state && state.exited) {
      throw new Error(`server exited early (${JSON.stringify(state.exited)}):\n${output}`);
    }
    if (state === true) return server;
    if (Date.now() > deadline) {
      await server.kill();
      throw new Error(`server not ready on ${server.url}:\n${output}`);
    }
    await sleep(100);
  }
}

async function probe(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// Browsers. Each visitor gets their own Chromium with a fresh profile, so
// sessions (localStorage) never leak between the two users.

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Opens a fresh Chromium and one page at url; returns {page, close}. */
export async function openPage(url, { width = 1440, height = 900 } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'spindle-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width, height },
    timeout: 20000,
  });
  const page = context.pages()[0] || await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(url);
  return {
    page,
    errors,
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Waits until the page shows it is live and the seat map is drawn and synced. */
export async function waitLive(page, timeout = 10000) {
  await page.waitForSelector('#conn[data-state="connected"]', { timeout });
  await page.waitForSelector('#seatmap .seat', { timeout });
  await page.waitForFunction(() => !document.querySelector('#seatmap .seat[data-state="loading"]'), null, { timeout });
}

/** Signs the page in as name and waits until the server agrees. */
export async function signIn(page, name) {
  await page.fill('#name', name);
  await page.click('#signin');
  await page.waitForSelector('#user-name', { timeout: 10000 });
  await waitLive(page);
}

/** seat id → data-state for the shown screening. */
export function seatStates(page) {
  return page.$$eval('#seatmap .seat', (els) => Object.fromEntries(els.map((e) => [e.dataset.seat, e.dataset.state])));
}

/** A seat both pages show as free. */
export async function commonFreeSeat(...pages) {
  const maps = await Promise.all(pages.map(seatStates));
  const id = Object.keys(maps[0]).find((s) => maps.every((m) => m[s] === 'free'));
  if (!id) throw new Error('no seat is free on every page');
  return id;
}

export function seat(page, id) {
  return page.locator(`#seatmap .seat[data-seat="${id}"]`);
}

/** Saves a screenshot under artifacts/ and returns its path. */
export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
