// Whether the application behind the real-time server answers. When the
// app runs as its own process (examples/ticket-booking) it can die while
// the real-time server and the WebSocket stay up: the connection looks
// live, yet every proxied call (RPC, subscribe, connect) fails with the
// temporary error 100, or never answers and times out in the SDK. The page
// then says the backend is unavailable and checks by itself until a call
// succeeds again.

const INTERNAL = 100; // the server's "internal server error": the proxy call failed
const TIMEOUT = 1; // the SDK gave up waiting for a reply

const FIRST_CHECK_MS = 1000;
const MAX_CHECK_MS = 4000;

/** True when err says the app did not answer, rather than refused. */
export function backendFailure(err) {
  return !!err && (err.code === INTERNAL || err.code === TIMEOUT);
}

export class Backend {
  /**
   * check() is a cheap call through the app, resolving when it answered;
   * onChange(up, recovered) runs whenever the verdict flips.
   */
  constructor({ check, onChange }) {
    this.up = true;
    this.check = check;
    this.onChange = onChange;
    this.timer = null;
    this.delay = FIRST_CHECK_MS;
  }

  /** A call failed; returns whether it was the app not answering. */
  failed(err) {
    if (!backendFailure(err)) return false;
    if (this.up) {
      this.up = false;
      this.delay = FIRST_CHECK_MS;
      this.onChange(false, false);
    }
    this.schedule();
    return true;
  }

  /** A call through the app succeeded: it is there. */
  succeeded() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.up) return;
    this.up = true;
    this.onChange(true, true);
  }

  // Asks again with a growing pause, so a page left open does not hammer
  // a server whose app is gone for good.
  schedule() {
    if (this.timer) return;
    this.timer = setTimeout(async () => {
      this.timer = null;
      try {
        await this.check();
        this.succeeded();
      } catch (err) {
        // Anything else (say, the connection dropped) is the SDK's to
        // retry; keep asking either way until a call gets through.
        if (!this.up) {
          this.delay = Math.min(this.delay * 2, MAX_CHECK_MS);
          this.schedule();
        }
      }
    }, this.delay);
  }
}
