import { isAbort } from "../api.js";
import { h, srOnly } from "../dom.js";
import { dayKey, formatDateTime, formatDay, formatTime } from "../format.js";
import { MESSAGE_SOURCE_LABELS, MESSAGE_STATUS_LABELS, SIDE_LABELS } from "../labels.js";
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

/** One message as a bubble: who sent it, its content and its origin (histórico, ao vivo, enviada pelo App). */
function messageItem(message, byId, options) {
  const outbound = message.direction === "OUTBOUND";
  return h(
    "li",
    {
      class: ["msg", outbound ? "msg--out" : "msg--in", `msg--${message.source}`],
      "data-source": message.source,
      "data-direction": message.direction,
      "data-id": message.id,
    },
    h(
      "div",
      { class: "bubble" },
      srOnly(outbound ? "Enviada pela empresa: " : "Recebida do cliente: "),
      message.forwarded ? h("p", { class: "msg__flag" }, "Encaminhada") : null,
      message.replyToId ? quote(message.replyToId, byId) : null,
      messageContent(message, options),
      edits(message),
      h(
        "p",
        { class: "msg__meta" },
        h("span", { class: ["origin", `origin--${message.source}`] }, MESSAGE_SOURCE_LABELS[message.source] ?? message.source),
        h("time", { datetime: message.timestamp, title: formatDateTime(message.timestamp) }, formatTime(message.timestamp)),
        message.status ? h("span", { class: "msg__status" }, MESSAGE_STATUS_LABELS[message.status] ?? message.status) : null,
      ),
    ),
    reactions(message),
  );
}

/**
 * A conversation read a page at a time, oldest first, with "Carregar mais mensagens" following
 * `nextCursor`. `page(cursor)` resolves to `{messages, nextCursor}`; `onError(error)` says why a
 * page did not come; `onRetryMedia()` asks for the conversation's failed media files again.
 */
export class Conversation {
  constructor({ page, onError, onRetryMedia }) {
    Object.assign(this, { page, onError, onRetryMedia });
    this.byId = new Map();
    this.lastDay = null;
    this.cursor = null;
    this.loading = false;
    this.list = h("ol", { class: "conversation", "aria-label": "Conversa, da mais antiga para a mais recente" });
    this.more = h(
      "button",
      { type: "button", class: "btn more", hidden: true, on: { click: () => this.load(this.cursor) } },
      "Carregar mais mensagens",
    );
    this.empty = h("p", { class: "empty-inline", hidden: true }, "Nenhuma mensagem nesta conversa.");
    this.element = h(
      "section",
      { class: "panel panel--conversation", "aria-label": "Conversa" },
      this.empty,
      this.list,
      this.more,
    );
  }

  append(messages) {
    for (const message of messages) this.byId.set(message.id, message);
    const items = [];
    for (const message of messages) {
      const day = dayKey(message.timestamp);
      if (day !== this.lastDay) {
        this.lastDay = day;
        items.push(h("li", { class: "day" }, h("span", {}, formatDay(message.timestamp))));
      }
      items.push(messageItem(message, this.byId, { onRetryMedia: this.onRetryMedia }));
    }
    this.list.append(...items);
    // a reply loaded before the message it quotes (an older page, or history after live) shows it now
    for (const missing of this.list.querySelectorAll(".quote--missing")) {
      const id = missing.getAttribute("data-quote");
      if (this.byId.has(id)) missing.replaceWith(quote(id, this.byId));
    }
    this.empty.hidden = this.byId.size > 0;
  }

  /** The first page (`cursor` null) or the next one; one at a time. */
  async load(cursor = null) {
    if (this.loading) return;
    this.loading = true;
    this.more.setAttribute("aria-busy", "true");
    try {
      const { messages, nextCursor } = await this.page(cursor);
      this.append(messages);
      this.cursor = nextCursor ?? null;
      this.more.hidden = !this.cursor;
    } catch (error) {
      if (!isAbort(error)) this.onError(error);
    } finally {
      this.loading = false;
      this.more.removeAttribute("aria-busy");
    }
  }
}
