// Spindle Cinema: the ticket-booking demo page. One Centrifuge client
// carries everything — each screening's seats are a map subscription,
// "seats:<id>" (one key per seat): the SDK syncs the whole map from the
// subscription, page by page, then delivers every change; purchase
// confirmations come on the user's own channel "user#<id>". The SDK
// reconnects by itself and recovers what it missed; when the server cannot
// prove nothing was missed (for example after a restart) it syncs the map
// again by itself. Every call through the app reports to `backend`, which
// tells "Live" from a live connection to a server whose app is gone.

import { Centrifuge } from 'centrifuge';
import { Store } from './store.js';
import * as view from './view.js';
import { toast, dismissToasts } from './toast.js';
import { Backend, backendFailure } from './backend.js';
import { sentence, time } from './dom.js';

const SESSION_KEY = 'spindle-demo-session';

const store = new Store();
let session = loadSession();
let client = null;
let userSub = null;
let everConnected = false;
let switchingUser = false;
let scheduleLoaded = false;
let renderQueued = false;
let connState = 'connecting';

const backend = new Backend({
  check: () => client.rpc('cinema.schedule', {}),
  onChange(up, recovered) {
    showConnection(connState);
    render(); // which also clears toasts about the outage
    // A restarted app has a new seat map (it lived in its memory), and
    // nothing was published while it was gone: read everything again.
    if (recovered) resync();
  },
});

const actions = {
  select(id) {
    store.selected = id;
    history.replaceState(null, '', `#screening=${encodeURIComponent(id)}`);
    render();
  },
  seat: onSeatClick,
  buy: (screening, seat) => seatCall('cinema.buy', screening, seat),
  cancel: (screening, seat) => seatCall('cinema.cancel', screening, seat),
  async buyAll(held) {
    for (const { screening, seat } of held) await seatCall('cinema.buy', screening.id, seat.id);
  },
  signIn,
  signOut,
};

async function main() {
  const hash = /screening=([^&]+)/.exec(location.hash);
  if (hash) store.selected = decodeURIComponent(hash[1]);

  const cfg = await fetch('/demo/config').then((r) => (r.ok ? r.json() : {})).catch(() => ({}));
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const url = cfg.websocket || `${scheme}://${location.host}/connection/websocket`;
  // The same server over HTTP: where WebSocket is blocked (a proxy, some
  // networks) the SDK falls back to HTTP-streaming, then SSE.
  const base = url.replace(/^ws/, 'http').replace(/\/connection\/websocket$/, '');
  const transports = [
    { transport: 'websocket', endpoint: url },
    { transport: 'http_stream', endpoint: `${base}/connection/http_stream` },
    { transport: 'sse', endpoint: `${base}/connection/sse` },
  ];

  client = new Centrifuge(transports, {
    emulationEndpoint: `${base}/emulation`,
    name: 'spindle-demo',
    // Read on every (re)connect, so signing in or out only needs a reconnect.
    getData: async () => (session ? { authToken: session.token } : {}),
    minReconnectDelay: 200,
    maxReconnectDelay: 3000,
  });
  client.on('connecting', () => showConnection(everConnected && !switchingUser ? 'reconnecting' : 'connecting'));
  client.on('disconnected', () => showConnection(switchingUser ? 'connecting' : 'disconnected'));
  client.on('connected', onConnected);
  // The connect proxy could not reach the app; the SDK retries by itself.
  client.on('error', (ctx) => { if (ctx.type === 'connect') backend.failed(ctx.error); });

  render();
  client.connect();
  setInterval(() => view.tickTimers(store), 1000);
}

function showConnection(state) {
  connState = state;
  view.renderConnection(state, backend.up);
}

function onConnected(ctx) {
  everConnected = true;
  document.body.dataset.transport = ctx.transport;
  switchingUser = false;
  backend.succeeded(); // the connect proxy went through the app
  const info = ctx.data || {};
  if (session && info.state !== 'signed-in') {
    toast('warn', 'Please sign in again',
      info.state === 'expired' ? 'Your session expired.' : 'The server did not recognise your session — it may have restarted.');
    saveSession(null);
  }
  const userChanged = store.user !== (info.user || '');
  store.user = info.user || '';
  store.name = info.name || (session ? session.name : '');
  if (userChanged) store.tickets.clear();
  showConnection('connected');
  syncUserSubscription();
  if (!scheduleLoaded) loadSchedule();
  if (store.user) loadTickets();
  render();
}

async function loadSchedule() {
  try {
    const { data } = await client.rpc('cinema.schedule', {});
    backend.succeeded();
    store.setSchedule(data.screenings);
    store.syncClock(data.server_time);
    scheduleLoaded = true;
    for (const id of store.order) subscribeScreening(id);
    subscribeSeatsLeft();
    render();
  } catch (err) {
    backend.failed(err);
    toast('error', 'Could not load the programme', reason(err));
  }
}

function subscribeScreening(id) {
  const channel = `seats:${id}`;
  if (client.getSubscription(channel)) return;
  const sub = client.newMapSubscription(channel);
  sub.on('subscribed', () => backend.succeeded()); // the subscribe proxy went through the app
  // The whole seat map: on the first subscribe and whenever the server
  // could not prove nothing was missed (a recovered subscription gets the
  // missed changes as updates instead).
  sub.on('sync', (ctx) => {
    store.syncSeats(id, ctx.entries.map((e) => e.data));
    render();
  });
  sub.on('update', (ctx) => onSeatUpdate(id, ctx));
  sub.on('error', (ctx) => {
    if (!backend.failed(ctx.error)) console.warn('subscription error', channel, ctx.error);
  });
  sub.subscribe();
}

/**
 * The schedule's "N free": a shared-poll subscription tracking every
 * screening. The server asks the app for the counts on a timer, once for
 * all open pages, and pushes only those that changed; the app signs which
 * screenings this page may track.
 */
function subscribeSeatsLeft() {
  const channel = 'seatsleft:schedule';
  if (client.getSubscription(channel)) return;
  const sub = client.newSharedPollSubscription(channel, {
    getSignature: async ({ keys }) => (await client.rpc('cinema.seats_left_signature', { keys })).data,
  });
  sub.on('update', (ctx) => {
    if (ctx.removed || !ctx.data) return;
    store.setFree(ctx.key, ctx.data.free);
    render();
  });
  sub.on('error', (ctx) => {
    if (!backend.failed(ctx.error)) console.warn('seat counts', ctx.error);
  });
  sub.subscribe();
  sub.track(store.order);
}

async function loadTickets() {
  try {
    const { data } = await client.rpc('user.tickets', {});
    backend.succeeded();
    store.setTickets(data.tickets);
    for (const t of data.tickets) store.applySeat(t.screening, t.seat);
    render();
  } catch (err) {
    if (!backend.failed(err)) console.warn('tickets', err);
  }
}

/** After the app came back: the programme, every seat map, the tickets. */
function resync() {
  if (!scheduleLoaded) {
    loadSchedule();
    return;
  }
  if (store.user) loadTickets();
}

/** An error as the visitor should read it. */
function reason(err) {
  return backendFailure(err) ? 'The booking service is not answering; try again in a moment.' : sentence(err && err.message);
}

function syncUserSubscription() {
  const channel = store.user ? `user#${store.user}` : '';
  if (userSub && userSub.channel !== channel) dropUserSubscription();
  if (!channel || userSub) return;
  userSub = client.newSubscription(channel, { recoverable: true });
  userSub.on('publication', (ctx) => onUserEvent(ctx.data));
  userSub.subscribe();
}

function dropUserSubscription() {
  if (!userSub) return;
  userSub.unsubscribe();
  client.removeSubscription(userSub);
  userSub = null;
}

/** One seat changed: the map's order is the seats' order, so it always wins. */
function onSeatUpdate(screening, ctx) {
  const seat = ctx.data;
  if (ctx.removed || !seat || !seat.id) return;
  const before = store.entry(screening).seats.get(seat.id);
  store.setSeat(screening, seat);
  // Someone else's change (a reservation, a sale, a release) flashes.
  const actor = seat.user || (before && before.user) || '';
  if (actor !== store.user) view.flashSeat(screening, seat.id);
  render();
}

function onUserEvent(ev) {
  if (!ev || !ev.seat) return;
  if (ev.event === 'ticket.bought') {
    store.applySeat(ev.screening, ev.seat);
    store.addTicket({ ...ev, state: 'sold' });
    toast('success', 'Ticket confirmed', `${ev.movie} · ${time(ev.starts_at)} · ${ev.hall} · seat ${ev.seat.id}`);
  } else if (ev.event === 'reservation.expired') {
    // The event carries the freed seat; applying it here, whichever of this
    // and the screening's own event comes first, makes the toast describe
    // the seat as it now is.
    store.applySeat(ev.screening, ev.seat);
    toast('warn', `Reservation for ${ev.seat.id} expired`, `${ev.movie} — the seat is free again.`, aboutSeat(ev.screening, ev.seat.id));
  }
  render();
}

function onSeatClick(screeningId, seatId) {
  const seat = store.entry(screeningId).seats.get(seatId);
  const state = store.view(seat);
  if (state === 'free' && !store.user) {
    toast('info', 'Sign in to reserve seats', 'Type your name in the box on the right — watching needs no account.');
    const input = document.getElementById('name');
    if (input) input.focus();
    return;
  }
  if (state === 'free') seatCall('cinema.reserve', screeningId, seatId);
  else if (state === 'mine') seatCall('cinema.cancel', screeningId, seatId);
  else if (state === 'taken') toast('info', `Seat ${seatId} is reserved`, 'Someone holds it right now; it frees up if they do not buy it in time.', aboutSeat(screeningId, seatId));
}

const FAILED = { 'cinema.reserve': 'Could not reserve', 'cinema.buy': 'Could not buy', 'cinema.cancel': 'Could not release' };

async function seatCall(method, screening, seat) {
  const key = `${screening}/${seat}`;
  if (store.pending.has(key)) return;
  store.pending.add(key);
  render();
  try {
    const { data } = await client.rpc(method, { screening, seat });
    backend.succeeded();
    store.syncClock(data.server_time);
    store.applySeat(screening, data.seat);
    if (method === 'cinema.reserve') toast('success', `Seat ${seat} reserved`, 'Held for you for two minutes.', aboutSeat(screening, seat));
    if (method === 'cinema.cancel') toast('info', `Seat ${seat} released`, '', aboutSeat(screening, seat));
  } catch (err) {
    const appGone = backend.failed(err);
    // Not tied to the seat's state: the event that explains the failure
    // ("already taken") may arrive just after it and must not wipe it. One
    // blaming the missing app goes when the app is back.
    toast('error', `${FAILED[method]} ${seat}`, reason(err), { screening, seat, appGone });
  } finally {
    store.pending.delete(key);
    render();
  }
}

async function signIn(name) {
  if (!name.trim()) return;
  let body = {};
  let ok = false;
  try {
    const res = await fetch('/demo/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    body = await res.json().catch(() => ({}));
    ok = res.ok;
  } catch (err) {
    body = { error: err.message };
  }
  if (!ok) {
    toast('error', 'Could not sign in', sentence(body.error));
    return;
  }
  saveSession(body);
  reconnectAs();
}

function signOut() {
  saveSession(null);
  reconnectAs();
}

/** Reconnects so the server sees the new session in the connect data. */
function reconnectAs() {
  switchingUser = true;
  dropUserSubscription();
  store.user = '';
  store.name = '';
  store.tickets.clear();
  client.disconnect();
  client.connect();
  render();
}

/** What a toast about a seat describes: the seat as this visitor sees it now. */
function aboutSeat(screening, seat) {
  return { screening, seat, state: store.view(store.entry(screening).seats.get(seat)) };
}

/**
 * A seat toast is out of date once the seat has changed (reserved → sold,
 * say) or the visitor has turned to another screening; leaving it up would
 * contradict the seat map. Toasts without a state go with the screening, or
 * with the outage they report.
 */
function staleToast({ screening, seat, state, appGone }) {
  if (screening !== store.selected || (appGone && backend.up)) return true;
  return state !== undefined && store.view(store.entry(screening).seats.get(seat)) !== state;
}

function render() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    view.renderSchedule(store, actions);
    view.renderHall(store, actions);
    view.renderAccount(store, actions);
    view.renderBasket(store, actions);
    view.renderTickets(store);
    dismissToasts(staleToast);
  });
}

function loadSession() {
  try {
    const s = JSON.parse(localStorage.getItem(SESSION_KEY) || 'null');
    return s && s.token ? s : null;
  } catch {
    return null;
  }
}

function saveSession(s) {
  session = s;
  try {
    if (s) localStorage.setItem(SESSION_KEY, JSON.stringify(s));
    else localStorage.removeItem(SESSION_KEY);
  } catch {
    // Private mode: the session lasts as long as the page.
  }
}

main();
