// The page's model of the cinema. Seats arrive from two directions: the
// seat map subscription (a full sync, then each change in order: it is the
// truth, whatever the revision) and the replies of this visitor's own seat
// calls, which may race the subscription; each seat carries a revision, and
// a reply only wins when it is newer.

export class Store {
  constructor() {
    /** screening id → {info, seats: Map<seatId, seat>, loaded} */
    this.screenings = new Map();
    this.order = [];
    this.selected = null;
    /** Who the server accepted this connection as ('' = anonymous). */
    this.user = '';
    this.name = '';
    /** Server clock minus ours, for reservation countdowns. */
    this.clockOffset = 0;
    /** "screening/seat" → ticket, for the signed-in user. */
    this.tickets = new Map();
    /** Seats with a request in flight ("screening/seat"). */
    this.pending = new Set();
  }

  setSchedule(list) {
    for (const info of list) this.entry(info.id).info = info;
    this.order = list.map((s) => s.id);
    if (!this.selected || !this.screenings.has(this.selected)) this.selected = this.order[0] || null;
  }

  entry(id) {
    let e = this.screenings.get(id);
    if (!e) {
      e = { info: null, seats: new Map(), loaded: false };
      this.screenings.set(id, e);
    }
    return e;
  }

  /** A full seat map from the subscription replaces what we had. */
  syncSeats(id, seats) {
    const e = this.entry(id);
    e.seats = new Map();
    for (const seat of seats) if (seat && seat.id) e.seats.set(seat.id, { ...seat });
    e.loaded = true;
  }

  /** The schedule's count for a screening (the seats-left shared poll). */
  setFree(id, free) {
    const e = this.entry(id);
    if (e.info && typeof free === 'number') e.info = { ...e.info, free };
  }

  /** What the schedule shows: the polled count. */
  scheduleFree(id) {
    const e = this.screenings.get(id);
    return e && e.info ? e.info.free : 0;
  }

  /** A change from the subscription: newer than anything we had. */
  setSeat(id, seat) {
    this.entry(id).seats.set(seat.id, { ...seat });
  }

  /** Keeps the newer of what we have and seat; true when seat won. */
  applySeat(screeningId, seat) {
    const e = this.entry(screeningId);
    const cur = e.seats.get(seat.id);
    if (cur && cur.rev >= seat.rev) return false;
    e.seats.set(seat.id, { ...seat });
    return true;
  }

  syncClock(serverTime) {
    if (typeof serverTime === 'number') this.clockOffset = serverTime - Date.now();
  }

  now() {
    return Date.now() + this.clockOffset;
  }

  /** How this visitor sees a seat: free, mine, taken, owned or sold. */
  view(seat) {
    if (!seat || seat.state === 'free') return 'free';
    const own = this.user !== '' && seat.user === this.user;
    if (seat.state === 'reserved') return own ? 'mine' : 'taken';
    return own ? 'owned' : 'sold';
  }

  freeCount(id) {
    const e = this.screenings.get(id);
    if (!e) return 0;
    if (!e.loaded) return e.info ? e.info.free : 0;
    let n = 0;
    for (const seat of e.seats.values()) if (seat.state === 'free') n++;
    return n;
  }

  /** This user's reservations across all screenings, soonest expiry first. */
  reservations() {
    const out = [];
    if (!this.user) return out;
    for (const id of this.order) {
      const e = this.screenings.get(id);
      for (const seat of e.seats.values()) {
        if (seat.state === 'reserved' && seat.user === this.user) out.push({ screening: e.info, seat });
      }
    }
    return out.sort((a, b) => a.seat.expires_at - b.seat.expires_at);
  }

  setTickets(list) {
    this.tickets.clear();
    for (const t of list) if (t.state === 'sold') this.tickets.set(`${t.screening}/${t.seat.id}`, t);
  }

  addTicket(t) {
    this.tickets.set(`${t.screening}/${t.seat.id}`, t);
  }
}
