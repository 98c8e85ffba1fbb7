import { isAbort } from "./api.js";
import { formatClock } from "./format.js";

const FAST_MS = 2_000;
const SLOW_MS = 5_000;
const WATCH_MS = 10_000; // nothing under way: a cheap "anything new?" (ETag, 304) this often
const RETRY_MS = [5_000, 10_000, 30_000]; // after failures: 5 s, 10 s, then every 30 s

/** What a `fetch` of a refresh answers when the server said its copy is current (304). */
export const UNCHANGED = Symbol("unchanged");

/** How long to wait after `failures` failures in a row, at least what the server asked (Retry-After). */
function backoff(failures, error) {
  const delay = RETRY_MS[Math.min(failures, RETRY_MS.length) - 1];
  return Math.max(delay, (error?.retryAfter ?? 0) * 1000);
}

/** A failure that may pass by itself: no answer (network), the server's or a dependency's (5xx), throttling. */
function transient(error) {
  return !error.status || error.status >= 500 || error.status === 429;
}

/**
 * How often the cards of `connections` need a fresh look: fast while a sync runs, slower while a
 * number waits for the business's consent (to a request made of Meta) or a completed sync still waits
 * for media files; null when every card is in a final state (then the page only watches for news,
 * every `WATCH_MS`). A disconnected number receives nothing, whatever its sync status says, and a
 * number nothing was asked of (no token) waits for nothing.
 */
export function syncDelay(connections) {
  const live = connections.filter((c) => c.connectionStatus === "active").map((c) => c.historySync);
  if (live.some((sync) => sync.status === "syncing")) return FAST_MS;
  // waiting for the business's consent to something asked of Meta (without a token, nothing was)
  if (live.some((sync) => sync.status === "pending_consent" && sync.requests?.length)) return SLOW_MS;
  if (live.some((sync) => sync.status === "completed" && sync.mediaPending > 0)) return SLOW_MS;
  return null;
}

/**
 * Keeps a screen current: fetches every `delayFor(data)` ms (fast while a sync runs), or every
 * `WATCH_MS` when nothing is under way (`delayFor` null), one request at a time. `fetch` may answer
 * `UNCHANGED` (the server's 304: its ETag is still current), which costs the server one small read
 * and redraws nothing. A hidden tab skips its turns and is refreshed as soon as it shows again.
 * After a failure that may pass (no answer, 5xx, 429) the next try waits 5 s, 10 s, then 30 s, at
 * least the server's `Retry-After` (a refusal such as 404 stays on screen until "Atualizar").
 * Renders only what changed (or everything on a manual refresh, or after a failure, so that the
 * error goes away), and only the newest answer (a manual refresh may overtake a scheduled one).
 */
export class AutoRefresh {
  constructor({ fetch, render, delayFor, onState, onError }) {
    Object.assign(this, { fetch, render, delayFor, onState, onError });
    this.sequence = 0;
    this.timer = null;
    this.stopped = false;
    this.data = undefined;
    this.signature = null;
    this.failed = false;
    this.error = null;
    this.failures = 0;
    this.fetchedAt = null;
    this.onVisible = () => {
      // back to a visible tab: refreshed at once (a first load that failed while hidden is tried again)
      if (document.hidden || this.stopped) return;
      if (this.data !== undefined || (this.failed && transient(this.error))) this.run(false);
    };
    document.addEventListener("visibilitychange", this.onVisible);
  }

  /** Fetch now (first load, the "Atualizar" button, after an action). */
  refresh() {
    return this.run(true);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    document.removeEventListener("visibilitychange", this.onVisible);
  }

  async run(manual) {
    this.sequence += 1;
    const mine = this.sequence;
    clearTimeout(this.timer);
    try {
      const data = await this.fetch({ manual });
      if (this.stopped || mine !== this.sequence) return;
      this.fetchedAt = new Date();
      this.failures = 0;
      if (data !== UNCHANGED) {
        const signature = JSON.stringify(data);
        if (manual || this.failed || signature !== this.signature) {
          this.signature = signature;
          this.data = data;
          this.failed = false;
          this.render(data);
        }
      } else if (this.failed) {
        this.failed = false;
        this.render(this.data);
      }
    } catch (error) {
      if (isAbort(error) || this.stopped || mine !== this.sequence) return;
      this.failed = true;
      this.error = error;
      this.failures += 1;
      this.onError(error);
    }
    this.schedule();
  }

  schedule() {
    clearTimeout(this.timer);
    if (this.stopped) return;
    const retrying = this.failed && transient(this.error);
    if (this.data === undefined) {
      if (!retrying) return; // a refusal stays on screen until "Atualizar"
      const delay = backoff(this.failures, this.error);
      this.onState({ state: "retrying", delay });
      this.timer = setTimeout(() => this.whenVisible(), delay);
      return;
    }
    const delay = retrying ? backoff(this.failures, this.error) : (this.delayFor(this.data) ?? WATCH_MS);
    this.onState({ state: "polling", delay, at: this.fetchedAt });
    this.timer = setTimeout(() => this.whenVisible(), delay);
  }

  /** A hidden tab skips its turn (it is refreshed when it shows again: `onVisible`). */
  whenVisible() {
    if (!document.hidden) this.run(false);
  }
}

/** "Atualizado às 10:42:01 · atualização automática a cada 2 s", or the next try after a failure. */
export function describeRefresh(state) {
  if (state.state === "retrying") return `Nova tentativa automática em ${state.delay / 1000} s.`;
  const stamp = state.at ? `Atualizado às ${formatClock(state.at)}` : "";
  return `${stamp} · atualização automática a cada ${state.delay / 1000} s`;
}

/**
 * Keeps an open screen current: `fetch()` every `every` ms while the tab is visible (a hidden tab
 * skips its turns and is refreshed as soon as it shows again), one request at a time; after a
 * failure that may pass (no answer, 5xx, 429) the next try waits 5 s, 10 s, then 30 s until one
 * succeeds (`onError(error)` each time, `onRecovered()` after); a refusal (another 4xx: the ticket is
 * gone) stops it. `stop()` ends it.
 */
export class LiveRefresh {
  constructor({ fetch, every, onError = () => {}, onRecovered = () => {} }) {
    Object.assign(this, { fetch, every, onError, onRecovered });
    this.timer = null;
    this.running = false;
    this.stopped = false;
    this.failures = 0;
    this.onVisible = () => {
      if (!document.hidden) this.now();
    };
    document.addEventListener("visibilitychange", this.onVisible);
  }

  start() {
    this.schedule(this.every);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    document.removeEventListener("visibilitychange", this.onVisible);
  }

  /** A refresh now (after an action, or back to a visible tab); the next one follows from it. */
  async now() {
    if (this.stopped || this.running) return;
    clearTimeout(this.timer);
    this.running = true;
    try {
      await this.fetch();
      if (this.failures) this.onRecovered();
      this.failures = 0;
    } catch (error) {
      if (isAbort(error) || this.stopped) return;
      this.failures += 1;
      this.error = error;
      this.onError(error);
      if (!transient(error)) this.stop();
    } finally {
      this.running = false;
    }
    const delay = this.failures ? backoff(this.failures, this.error) : this.every;
    this.schedule(delay);
  }

  schedule(delay) {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => (document.hidden ? this.schedule(this.every) : this.now()), delay);
  }
}

/**
 * "Anything new in this number's inbox?": `GET /connections/{id}` with the ETag of the last answer
 * (`If-None-Match`). Its ETag moves with every message, reaction, App echo, status, ticket and file of
 * the number (D-49); a 304 costs the server one small read.
 *
 * `refresh(read)` runs `read` (the screen's own data) when the answer changed, and keeps the new ETag
 * only once `read` succeeded: a read that failed is made again on the next turn, never skipped by a
 * 304. After a change it reads once more on the next turn whatever the answer: the lists the screens
 * read come from indexes that may show a write a moment after the counter that announced it. The
 * first ask reads too (nothing is known yet), so what came between the page's load and it is not missed.
 */
export class ChangeProbe {
  constructor({ api, connectionId, signal }) {
    this.api = api;
    this.path = `/connections/${encodeURIComponent(connectionId)}`;
    this.signal = signal;
    this.etag = null;
    this.settling = false; // the turn after a change reads again
  }

  async refresh(read) {
    const { status, etag } = await this.api.request("GET", this.path, { etag: this.etag, signal: this.signal });
    const changed = status !== 304;
    if (!changed && !this.settling) return false;
    await read();
    this.settling = changed;
    if (changed) this.etag = etag ?? null;
    return true;
  }
}
