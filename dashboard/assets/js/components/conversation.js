import { isAbort } from "../api.js";
import { h, srOnly } from "../dom.js";
import { dayKey, formatDateTime, formatDay, formatTime } from "../format.js";
import { MESSAGE_SOURCE_LABELS, MESSAGE_STATUS_LABELS } from "../labels.js";

const MEDIA_LABELS = {
  image: "Imagem",
  video: "Vídeo",
  audio: "Áudio",
  document: "Documento",
  sticker: "Figurinha",
  media_placeholder: "Mídia",
};

function excerpt(text, size = 80) {
  return text.length > size ? `${text.slice(0, size - 1)}…` : text;
}

function media(message) {
  const placeholder = message.type === "media_placeholder" || !message.media?.id;
  const kind = MEDIA_LABELS[message.type] ?? "Mídia";
  return h(
    "div",
    { class: ["msg__media", placeholder && "msg__media--pending"] },
    placeholder
      ? `${kind} do histórico: o arquivo ainda não chegou`
      : `${kind}${message.media.mimeType ? ` (${message.media.mimeType})` : ""}`,
    message.media?.caption ? h("p", { class: "msg__caption" }, message.media.caption) : null,
  );
}

function content(message) {
  if (message.deleted) {
    return h("p", { class: "msg__deleted" }, h("span", { "aria-hidden": "true" }, "⊘ "), "Mensagem apagada");
  }
  const hasMedia = message.media || message.type === "media_placeholder";
  return [
    hasMedia ? media(message) : null,
    message.body ? h("p", { class: "msg__body" }, message.body) : null,
    !hasMedia && !message.body ? h("p", { class: "msg__body muted" }, `[${message.type}]`) : null,
  ];
}

function reactions(message) {
  if (!message.reactions?.length) return null;
  return h(
    "ul",
    { class: "msg__reactions", "aria-label": "Reações" },
    message.reactions.map((reaction) =>
      h(
        "li",
        { title: `${reaction.direction === "OUTBOUND" ? "Empresa" : "Cliente"} · ${formatDateTime(reaction.at)}` },
        reaction.emoji,
      ),
    ),
  );
}

/** One message as a bubble: who sent it, its content and its origin (histórico, ao vivo, enviada pelo App). */
function messageItem(message, byId) {
  const outbound = message.direction === "OUTBOUND";
  const quoted = message.replyToId ? byId.get(message.replyToId) : null;
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
      message.replyToId
        ? h("p", { class: "msg__reply" }, "Em resposta a: ", quoted?.body ? excerpt(quoted.body) : "mensagem anterior")
        : null,
      content(message),
      reactions(message),
      h(
        "p",
        { class: "msg__meta" },
        h("span", { class: ["origin", `origin--${message.source}`] }, MESSAGE_SOURCE_LABELS[message.source] ?? message.source),
        h("time", { datetime: message.timestamp, title: formatDateTime(message.timestamp) }, formatTime(message.timestamp)),
        message.status ? h("span", { class: "msg__status" }, MESSAGE_STATUS_LABELS[message.status] ?? message.status) : null,
        message.editedAt ? h("span", { title: `Editada em ${formatDateTime(message.editedAt)}` }, "editada") : null,
      ),
    ),
  );
}

/**
 * A conversation read a page at a time, oldest first, with "Carregar mais mensagens" following
 * `nextCursor`. `page(cursor)` resolves to `{messages, nextCursor}`; `onError(error)` says why a
 * page did not come.
 */
export class Conversation {
  constructor({ page, onError }) {
    Object.assign(this, { page, onError });
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
      items.push(messageItem(message, this.byId));
    }
    this.list.append(...items);
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
