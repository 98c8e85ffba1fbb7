import { isAbort } from "../api.js";
import { h, srOnly } from "../dom.js";
import { dayKey, formatDateTime, formatDay, formatTime } from "../format.js";
import { deliveryFailure, MESSAGE_SOURCE_LABELS, MESSAGE_STATUS_LABELS, SIDE_LABELS } from "../labels.js";
import { messageContent, summaryText } from "./message-content.js";

function excerpt(text, size = 120) {
  return text.length > size ? `${text.slice(0, size - 1)}…` : text;
}

/** Scrolls to the quoted message and gives it focus (the quote's `data-quote` names it). */
function showQuoted(event) {
  const id = event.currentTarget.getAttribute("data-quote");
  const target = event.currentTarget.closest(".conversation")?.querySelector(`[data-id="${CSS.escape(id)}"]`);
  if (!target) return;
  target.setAttribute("tabindex", "-1");
  target.scrollIntoView({ block: "center" });
  target.focus({ preventScroll: true });
}

/** The quoted message above a reply: who sent it and what it said, or that it is not loaded (yet). */
function quote(id, byId) {
  const quoted = byId.get(id);
  if (!quoted) {
    return h(
      "p",
      { class: "quote quote--missing", "data-quote": id },
      srOnly("Em resposta a: "),
      "Mensagem anterior (não carregada)",
    );
  }
  const who = SIDE_LABELS[quoted.direction] ?? quoted.direction;
  const said = excerpt(summaryText(quoted));
  return h(
    "button",
    {
      type: "button",
      class: ["quote", `quote--${quoted.direction === "OUTBOUND" ? "out" : "in"}`],
      "data-quote": id,
      "aria-label": `Em resposta a ${who}: ${said}`,
      title: "Ir para a mensagem citada",
      on: { click: showQuoted },
    },
    h("span", { class: "quote__who" }, who),
    h("span", { class: "quote__text" }, said),
  );
}

/** "editada", opening on the earlier versions, the original first. */
function edits(message) {
  if (!message.editedAt || message.deleted) return null;
  const title = `Editada em ${formatDateTime(message.editedAt)}`;
  if (!message.edits?.length) return h("p", { class: "msg__edited", title }, "editada");
  return h(
    "details",
    { class: "msg__edited" },
    h("summary", { title }, "editada"),
    h(
      "ol",
      { class: "msg__versions", "aria-label": "Versões anteriores" },
      message.edits.map((version) =>
        h(
          "li",
          {},
          "Versão de ",
          h("time", { datetime: version.at, title: formatDateTime(version.at) }, formatTime(version.at)),
          ": ",
          h("span", { class: "msg__body" }, version.body ?? "(sem texto)"),
        ),
      ),
    ),
  );
}

/** Under the bubble: at most one reaction of each side. */
function reactions(message) {
  if (!message.reactions?.length) return null;
  return h(
    "ul",
    { class: "msg__reactions", "aria-label": "Reações" },
    message.reactions.map((reaction) => {
      const said = `${SIDE_LABELS[reaction.direction] ?? reaction.direction} reagiu com ${reaction.emoji}`;
      return h(
        "li",
        { title: `${said} · ${formatDateTime(reaction.at)}` },
        h("span", { "aria-hidden": "true" }, reaction.emoji),
        srOnly(said),
      );
    }),
  );
}

/** WhatsApp's ticks: 🕓 on its way, ✓ sent, ✓✓ delivered, blue ✓✓ read (or played); ⚠ failed, ? unknown. */
const TICKS = {
  pending: "🕓",
  accepted: "🕓",
  sent: "✓",
  delivered: "✓✓",
  read: "✓✓",
  played: "✓✓",
  failed: "⚠",
  unknown: "?",
};

function ticks(message) {
  const label = MESSAGE_STATUS_LABELS[message.status] ?? message.status;
  if (message.direction !== "OUTBOUND" || !TICKS[message.status]) {
    return h("span", { class: "msg__status" }, label);
  }
  return h(
    "span",
    { class: ["msg__ticks", `msg__ticks--${message.status}`], "data-status": message.status, title: label },
    h("span", { "aria-hidden": "true" }, TICKS[message.status]),
    srOnly(label),
  );
}

/** Under a reply that did not go: Meta's reason in Portuguese (its code and words in the tooltip), and "Enviar de novo". */
function failure(message, actions) {
  if (message.status !== "failed") return null;
  const error = message.error ?? { code: "delivery_failed" }; // a failure Meta gave no reason for still says so
  const raw = [error.code, error.message].filter(Boolean).join(": ");
  return h(
    "div",
    { class: "msg__failure", role: "note" },
    h("p", { class: "msg__failure-text", title: raw ? `Meta: ${raw}` : null }, deliveryFailure(error)),
    message.source === "agent" && actions?.resend
      ? h(
          "button",
          { type: "button", class: "btn btn-small msg__resend", on: { click: (event) => actions.resend(message, event.currentTarget) } },
          "Enviar de novo",
        )
      : null,
  );
}

function uncertain(message) {
  if (message.status !== "unknown") return null;
  return h(
    "p",
    { class: "msg__note" },
    "A resposta da Meta se perdeu: a mensagem pode ter sido enviada. Ela não é reenviada sozinha; a confirmação da Meta atualiza a situação.",
  );
}

/** One message as a bubble: who sent it, its content and its origin (histórico, ao vivo, enviada pelo App). */
function messageItem(message, byId, options) {
  const outbound = message.direction === "OUTBOUND";
  const { actions } = options;
  const canQuote = actions?.reply && message.id && !message.deleted;
  return h(
    "li",
    {
      class: ["msg", outbound ? "msg--out" : "msg--in", `msg--${message.source}`],
      "data-source": message.source,
      "data-direction": message.direction,
      "data-id": message.id,
      "data-key": keyOf(message),
      "data-status": message.status,
    },
    h(
      "div",
      { class: "bubble" },
      srOnly(outbound ? "Enviada pela empresa: " : "Recebida do cliente: "),
      message.forwarded ? h("p", { class: "msg__flag" }, "Encaminhada") : null,
      message.replyToId ? quote(message.replyToId, byId) : null,
      message.template ? h("p", { class: "msg__flag" }, `Modelo “${message.template.name}”`) : null,
      messageContent(message, options),
      edits(message),
      h(
        "p",
        { class: "msg__meta" },
        h("span", { class: ["origin", `origin--${message.source}`] }, MESSAGE_SOURCE_LABELS[message.source] ?? message.source),
        h("time", { datetime: message.timestamp, title: formatDateTime(message.timestamp) }, formatTime(message.timestamp)),
        message.status ? ticks(message) : null,
        canQuote
          ? h(
              "button",
              { type: "button", class: "msg__action", on: { click: () => actions.reply(message) } },
              "Responder",
            )
          : null,
      ),
      uncertain(message),
      failure(message, actions),
    ),
    reactions(message),
  );
}

/** A message's lasting name: an agent's reply keeps its clientMessageId before and after Meta names it. */
export function keyOf(message) {
  return message.clientMessageId ?? message.id;
}

/** What a bubble shows, without the media URL's signature (new on every read of the same file). */
function signature(message) {
  if (!message.media) return JSON.stringify(message);
  const { url, urlExpiresAt, ...media } = message.media;
  return JSON.stringify({ ...message, media: { ...media, stored: Boolean(url) } });
}

const URL_MARGIN_MS = 60_000;

function urlExpiry(message) {
  const at = Date.parse(message.media?.urlExpiresAt ?? "");
  return Number.isFinite(at) ? at : null;
}

/** A shown file whose link is about to expire, and a read that brought a newer link for it. */
function fresherLink(shown, incoming) {
  const old = urlExpiry(shown);
  const fresh = urlExpiry(incoming);
  return old !== null && fresh !== null && old - Date.now() < URL_MARGIN_MS && fresh > old;
}

function byTime(a, b) {
  const at = Date.parse(a.timestamp) - Date.parse(b.timestamp);
  if (at) return at;
  const left = a.id ?? "~";
  const right = b.id ?? "~"; // a reply without its wamid yet sorts after the wamids of its second
  return left < right ? -1 : left > right ? 1 : 0;
}

const NEAR_BOTTOM_PX = 48;

/**
 * A conversation as WhatsApp shows it: it opens at its newest message and reads older pages upwards
 * ("Carregar mensagens anteriores"). `page(cursor)` resolves to `{messages, olderCursor}` (a null
 * cursor: the newest page). `merge(messages)` takes what a refresh brought: a message already shown
 * is redrawn only when it changed, a new one is added in its place; new messages below what the
 * user is reading show "N novas mensagens" instead of moving the page. `actions` (optional):
 * `reply(message)` and `resend(message, button)`; `onError(error)` says why a page did not come;
 * `onRetryMedia()` asks for the conversation's failed media files again; `onStaleMedia()` is told
 * when a file did not load (its link may have expired: a new read brings fresh links).
 */
export class Conversation {
  constructor({ page, onError, onRetryMedia, onStaleMedia = () => {}, actions = null }) {
    Object.assign(this, { page, onError, onRetryMedia, onStaleMedia, actions });
    this.lastError = null;
    this.messages = new Map(); // key → message
    this.byId = new Map(); // wamid → message (quotes)
    this.nodes = new Map(); // key → {node, signature, message}
    this.days = new Map(); // day → separator node
    this.olderCursor = null;
    this.loading = false;
    this.unseen = new Set();
    this.list = h("ol", { class: "conversation", "aria-label": "Conversa, da mais antiga para a mais recente" });
    this.older = h(
      "button",
      { type: "button", class: "btn more more--older", hidden: true, on: { click: () => this.loadOlder() } },
      "Carregar mensagens anteriores",
    );
    this.news = h(
      "button",
      { type: "button", class: "btn btn-primary conversation__news", hidden: true, on: { click: () => this.scrollToEnd() } },
    );
    this.empty = h("p", { class: "empty-inline", hidden: true }, "Nenhuma mensagem nesta conversa.");
    this.scroller = h("div", { class: "conversation__scroll", tabindex: "0", "aria-label": "Mensagens" }, this.older, this.empty, this.list);
    this.scroller.addEventListener("scroll", () => {
      if (this.atEnd()) this.clearUnseen();
    });
    this.element = h("section", { class: "panel panel--conversation", "aria-label": "Conversa" }, this.scroller, this.news);
  }

  atEnd() {
    const box = this.scroller;
    return box.scrollHeight - box.scrollTop - box.clientHeight <= NEAR_BOTTOM_PX;
  }

  scrollToEnd() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.clearUnseen();
  }

  clearUnseen() {
    this.unseen.clear();
    this.news.hidden = true;
  }

  /** `reply`/`resend` on or off (a closed ticket is read-only): every bubble is drawn again. */
  setActions(actions) {
    if (actions === this.actions) return;
    this.actions = actions;
    this.nodes.clear();
    this.render();
  }

  /** Adds or updates `messages`; `{own: true}`: the agent's own reply, which scrolls into view. */
  merge(messages, { own = false } = {}) {
    const wasAtEnd = this.atEnd();
    const last = this.lastMessage();
    const added = [];
    for (const message of messages) {
      const key = keyOf(message);
      if (!this.messages.has(key)) added.push(message);
      this.messages.set(key, message);
      if (message.id) this.byId.set(message.id, message);
    }
    this.render();
    const below = added.filter((m) => !last || byTime(m, last) > 0);
    if (own || (wasAtEnd && below.length)) {
      this.scrollToEnd();
    } else if (below.length) {
      for (const message of below) this.unseen.add(keyOf(message));
      const count = this.unseen.size;
      this.news.textContent = count === 1 ? "1 nova mensagem ↓" : `${count} novas mensagens ↓`;
      this.news.hidden = false;
    }
  }

  /** Whether a refresh's newest page leaves a hole: its oldest message is newer than every message
   * shown and older ones exist (more arrived between two refreshes than a refresh reads). */
  leavesGap(messages, olderCursor) {
    if (!olderCursor || !messages.length || !this.messages.size) return false;
    const last = this.lastMessage();
    return !this.messages.has(keyOf(messages[0])) && byTime(messages[0], last) > 0;
  }

  get size() {
    return this.messages.size;
  }

  lastMessage() {
    let last = null;
    for (const message of this.messages.values()) if (!last || byTime(message, last) > 0) last = message;
    return last;
  }

  render() {
    const ordered = [...this.messages.values()].sort(byTime);
    const wanted = [];
    const keep = new Set();
    let day = null;
    for (const message of ordered) {
      const key = keyOf(message);
      const today = dayKey(message.timestamp);
      if (today !== day) {
        day = today;
        if (!this.days.has(day)) this.days.set(day, h("li", { class: "day" }, h("span", {}, formatDay(message.timestamp))));
        wanted.push(this.days.get(day));
      }
      const shown = this.nodes.get(key);
      const drawn = signature(message);
      if (shown && shown.signature === drawn && !fresherLink(shown.message, message)) {
        wanted.push(shown.node);
      } else {
        const node = messageItem(message, this.byId, {
          onRetryMedia: this.onRetryMedia,
          onMediaError: this.onStaleMedia,
          actions: this.actions,
        });
        this.nodes.set(key, { node, signature: drawn, message });
        wanted.push(node);
      }
      keep.add(key);
    }
    for (const key of this.nodes.keys()) if (!keep.has(key)) this.nodes.delete(key);
    // only nodes out of place move: a playing voice note or a loaded image stays where it is
    let cursor = this.list.firstChild;
    for (const node of wanted) {
      if (node === cursor) {
        cursor = cursor.nextSibling;
      } else {
        this.list.insertBefore(node, cursor);
      }
    }
    while (cursor) {
      const next = cursor.nextSibling;
      cursor.remove();
      cursor = next;
    }
    // a reply loaded before the message it quotes (an older page, or history after live) shows it now
    for (const missing of this.list.querySelectorAll(".quote--missing")) {
      const id = missing.getAttribute("data-quote");
      if (this.byId.has(id)) missing.replaceWith(quote(id, this.byId));
    }
    this.empty.hidden = this.messages.size > 0;
  }

  /** The newest page: the conversation opens at its end. False when it did not come (`lastError`). */
  async load() {
    return this.fetch(null, () => this.scrollToEnd());
  }

  /** The page before the oldest shown, above it, without moving what the user is reading (the first
   * message shown stays where it was, whatever a refresh adds below meanwhile). */
  async loadOlder() {
    if (!this.olderCursor) return false;
    const anchor = this.list.querySelector("li.msg");
    const top = anchor?.getBoundingClientRect().top;
    return this.fetch(this.olderCursor, () => {
      if (anchor?.isConnected) this.scroller.scrollTop += anchor.getBoundingClientRect().top - top;
    });
  }

  async fetch(cursor, place) {
    if (this.loading) return false;
    this.loading = true;
    this.older.setAttribute("aria-busy", "true");
    this.older.disabled = true;
    try {
      const { messages, olderCursor } = await this.page(cursor);
      for (const message of messages) {
        this.messages.set(keyOf(message), message);
        if (message.id) this.byId.set(message.id, message);
      }
      this.render();
      this.olderCursor = olderCursor ?? null;
      this.older.hidden = !this.olderCursor;
      place();
      this.lastError = null;
      return true;
    } catch (error) {
      this.lastError = error;
      if (!isAbort(error)) this.onError(error);
      return false;
    } finally {
      this.loading = false;
      this.older.removeAttribute("aria-busy");
      this.older.disabled = false;
    }
  }
}
