import { isAbort, segment, withQuery } from "../api.js";
import { Feedback } from "../components/feedback.js";
import { leadName, statusTag, windowTag } from "../components/people.js";
import { h, srOnly } from "../dom.js";
import { dayKey, formatDateTime, formatDay, formatPhone, formatTime } from "../format.js";
import { LEAD_SOURCE_LABELS, MESSAGE_SOURCE_LABELS, MESSAGE_STATUS_LABELS, TICKET_ORIGIN_LABELS } from "../labels.js";

const PAGE = 200;

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

/** `#/tickets/<id>`: the whole conversation, history and live together, oldest first. */
export function renderTicket(ctx, id) {
  const path = `/tickets/${segment(id)}`;
  const leadsCrumb = h("a", { href: "#/" }, "Leads e tickets");
  const title = h("h1", { tabindex: "-1" }, "Ticket");
  const subtitle = h("p", { class: "page-sub" });
  const facts = h("ul", { class: "tags ticket__facts", "aria-label": "Situação do ticket" });
  const feedback = new Feedback();
  const closeButton = h("button", { type: "button", class: "btn btn-danger", hidden: true }, "Fechar ticket");
  const conversation = h("ol", { class: "conversation", "aria-label": "Conversa, da mais antiga para a mais recente" });
  const more = h("button", { type: "button", class: "btn more", hidden: true }, "Carregar mais mensagens");
  const empty = h("p", { class: "empty-inline", hidden: true }, "Nenhuma mensagem nesta conversa.");
  const body = h(
    "div",
    { class: "ticket", hidden: true },
    h("section", { class: "panel panel--conversation", "aria-label": "Conversa" }, empty, conversation, more),
  );
  ctx.main.append(
    h(
      "nav",
      { class: "crumbs", "aria-label": "Trilha" },
      h("a", { href: "#/" }, "Instâncias"),
      " › ",
      leadsCrumb,
      " › ",
      h("span", { "aria-current": "page" }, "Ticket"),
    ),
    h(
      "div",
      { class: "page-head" },
      h("div", {}, title, subtitle),
      h("div", { class: "toolbar" }, closeButton),
    ),
    facts,
    feedback.element,
    body,
  );

  let ticket = null;
  let cursor = null;
  let lastDay = null;
  const byId = new Map();

  function showFacts() {
    facts.replaceChildren(
      statusTag(ticket),
      h("li", { class: "tag" }, TICKET_ORIGIN_LABELS[ticket.originatedFrom] ?? ticket.originatedFrom),
      windowTag(ticket),
      h("li", { class: "tag" }, `Aberto em ${formatDateTime(ticket.createdAt)}`),
    );
    closeButton.hidden = ticket.status !== "open";
  }

  function appendMessages(messages) {
    for (const message of messages) byId.set(message.id, message);
    const items = [];
    for (const message of messages) {
      const day = dayKey(message.timestamp);
      if (day !== lastDay) {
        lastDay = day;
        items.push(h("li", { class: "day" }, h("span", {}, formatDay(message.timestamp))));
      }
      items.push(messageItem(message, byId));
    }
    conversation.append(...items);
    empty.hidden = byId.size > 0;
  }

  let loading = false;

  async function load(next) {
    if (loading) return;
    loading = true;
    more.setAttribute("aria-busy", "true");
    try {
      const page = await ctx.api.get(withQuery(path, { limit: PAGE, cursor: next }), { signal: ctx.signal });
      const { lead, messages, ...rest } = page.ticket;
      if (!ticket) {
        const name = leadName(lead);
        title.textContent = name;
        ctx.setTitle(`${name} · Ticket`);
        subtitle.textContent = [
          formatPhone(lead.phoneNumber),
          `Lead: ${LEAD_SOURCE_LABELS[lead.source] ?? lead.source}${lead.hasHistory ? ", com histórico" : ""}`,
        ]
          .filter(Boolean)
          .join(" · ");
        leadsCrumb.setAttribute("href", `#/connections/${encodeURIComponent(rest.connectionId)}/leads`);
      }
      ticket = rest;
      showFacts();
      appendMessages(messages);
      cursor = page.nextCursor ?? null;
      more.hidden = !cursor;
      body.hidden = false;
    } catch (error) {
      if (!isAbort(error)) {
        feedback.error(error, error.status === 404 ? "Ticket não encontrado." : "Não foi possível carregar o ticket.");
      }
    } finally {
      loading = false;
      more.removeAttribute("aria-busy");
    }
  }

  more.addEventListener("click", () => load(cursor));

  let closing = false;
  closeButton.addEventListener("click", async () => {
    if (closing) return;
    closing = true;
    closeButton.setAttribute("aria-busy", "true");
    try {
      const { data } = await ctx.api.request("PATCH", path, { body: { status: "closed" }, signal: ctx.signal });
      ticket = data.ticket;
      showFacts();
      title.focus();
      feedback.success("Ticket fechado. A próxima mensagem ao vivo deste contato abre um ticket novo.");
    } catch (error) {
      if (!isAbort(error)) feedback.error(error, "O ticket não foi fechado.");
    } finally {
      closing = false;
      closeButton.removeAttribute("aria-busy");
    }
  });

  // the time left in the window goes down while the page is open
  const clock = setInterval(() => {
    if (ticket) showFacts();
  }, 30_000);
  load(null);
  return () => clearInterval(clock);
}
