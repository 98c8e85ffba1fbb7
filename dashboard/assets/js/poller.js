import { isAbort } from "./api.js";
import { formatClock } from "./format.js";

const FAST_MS = 2_000;
const SLOW_MS = 5_000;
const IDLE_LIMIT_MS = 10 * 60_000;

/**
 * How often the cards of `connections` need a fresh look: fast while a sync runs, slower while a
 * number waits for the business's consent, never when every card is in a final state. A
 * disconnected number receives nothing, whatever its sync status says.
 */
export function syncDelay(connections) {
  const live = connections.filter((c) => c.connectionStatus === "active").map((c) => c.historySync.status);
  if (live.includes("syncing")) return FAST_MS;
  if (live.includes("pending_consent")) return SLOW_MS;
  return null;
}

/**
 * Re-fetches while `delayFor(data)` asks for it and something changed in the last `idleLimit` ms.
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
      this.onError(error);
    }
    this.schedule();
  }

  schedule() {
    clearTimeout(this.timer);
    if (this.stopped || this.data === undefined) return;
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
}

/** "Atualizado às 10:42:01 · atualização automática a cada 2 s" and the paused variant. */
export function describeRefresh(state) {
  const stamp = state.at ? `Atualizado às ${formatClock(state.at)}` : "";
  if (state.state === "polling") return `${stamp} · atualização automática a cada ${state.delay / 1000} s`;
  if (state.state === "idle") {
    return `${stamp} · atualização automática pausada: nada mudou em ${IDLE_LIMIT_MS / 60_000} min. Use “Atualizar”.`;
  }
  return stamp;
}
