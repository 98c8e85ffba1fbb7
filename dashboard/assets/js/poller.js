import { isAbort } from "./api.js";
import { formatClock } from "./format.js";

const FAST_MS = 2_000;
const SLOW_MS = 5_000;
const IDLE_LIMIT_MS = 10 * 60_000;
const RETRY_MS = [5_000, 10_000, 30_000]; // before the first answer; then every 30 s

/** A failure that may pass by itself: no answer (network), the server's or a dependency's (5xx), throttling. */
function transient(error) {
  return !error.status || error.status >= 500 || error.status === 429;
}

/**
 * How often the cards of `connections` need a fresh look: fast while a sync runs, slower while a
 * number waits for the business's consent (to a request made of Meta) or a completed sync still waits
 * for media files, never when every card is in a final state. A disconnected number receives nothing,
 * whatever its sync status says, and a number nothing was asked of (no token) waits for nothing.
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
 * Re-fetches while `delayFor(data)` asks for it and something changed in the last `idleLimit` ms.
 * Until a first answer arrives, tries again after a transient failure: after 5 s, 10 s, 30 s, then
 * every 30 s (a refusal such as 404 stays on screen until "Atualizar").
 * Renders only what changed (or everything on a manual refresh, or after a failure, so that the
 * error goes away), and only the newest answer (a manual refresh may overtake a scheduled one).
 */
export class AutoRefresh {
  constructor({ fetch, render, delayFor, onState, onError, idleLimit = IDLE_LIMIT_MS }) {
    Object.assign(this, { fetch, render, delayFor, onState, onError, idleLimit });
    this.sequence = 0;
    this.timer = null;
    this.stopped = false;
    this.data = undefined;
    this.signature = null;
    this.failed = false;
    this.error = null;
    this.retries = 0;
    this.fetchedAt = null;
    this.changedAt = Date.now();
  }

  /** Fetch now (first load, the "Atualizar" button, after an action): also restarts a paused refresh. */
  refresh() {
    return this.run(true);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  async run(manual) {
    this.sequence += 1;
    const mine = this.sequence;
    clearTimeout(this.timer);
    try {
      const data = await this.fetch();
      if (this.stopped || mine !== this.sequence) return;
      this.fetchedAt = new Date();
      const signature = JSON.stringify(data);
      if (manual || this.failed || signature !== this.signature) {
        this.changedAt = Date.now();
        this.signature = signature;
        this.data = data;
        this.failed = false;
        this.render(data);
      }
    } catch (error) {
      if (isAbort(error) || this.stopped || mine !== this.sequence) return;
      this.failed = true;
      this.error = error;
      this.onError(error);
    }
    this.schedule();
  }

  schedule() {
    clearTimeout(this.timer);
    if (this.stopped) return;
    if (this.data === undefined) {
      if (this.failed && transient(this.error)) this.retry();
      return;
    }
    const delay = this.delayFor(this.data);
    const at = this.fetchedAt;
    if (delay === null) {
      this.onState({ state: "final", at });
    } else if (Date.now() - this.changedAt >= this.idleLimit) {
      this.onState({ state: "idle", at });
    } else {
      this.onState({ state: "polling", delay, at });
      // a hidden tab skips its turns instead of piling up requests
      this.timer = setTimeout(() => (document.hidden ? this.schedule() : this.run(false)), delay);
    }
  }

  /** Nothing to show yet (the first load failed): the error stays while the next try waits. */
  retry() {
    const delay = RETRY_MS[Math.min(this.retries, RETRY_MS.length - 1)];
    this.retries += 1;
    this.onState({ state: "retrying", delay });
    const attempt = () => {
      if (document.hidden) this.timer = setTimeout(attempt, delay);
      else this.run(false);
    };
    this.timer = setTimeout(attempt, delay);
  }
}

/** "Atualizado às 10:42:01 · atualização automática a cada 2 s" and the paused variant. */
export function describeRefresh(state) {
  if (state.state === "retrying") return `Nova tentativa automática em ${state.delay / 1000} s.`;
  const stamp = state.at ? `Atualizado às ${formatClock(state.at)}` : "";
  if (state.state === "polling") return `${stamp} · atualização automática a cada ${state.delay / 1000} s`;
  if (state.state === "idle") {
    return `${stamp} · atualização automática pausada: nada mudou em ${IDLE_LIMIT_MS / 60_000} min. Use “Atualizar”.`;
  }
  return stamp;
}

const LIVE_BACKOFF_MS = [5_000, 10_000, 30_000];

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
      this.onError(error);
      if (!transient(error)) this.stop();
    } finally {
      this.running = false;
    }
    const delay = this.failures ? LIVE_BACKOFF_MS[Math.min(this.failures, LIVE_BACKOFF_MS.length) - 1] : this.every;
    this.schedule(delay);
  }

  schedule(delay) {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => (document.hidden ? this.schedule(this.every) : this.now()), delay);
  }
}
