import { isAbort, segment, withQuery } from "../api.js";
import { connectionName } from "../components/card.js";
import { Conversation } from "../components/conversation.js";
import { Feedback } from "../components/feedback.js";
import { startConversationForm } from "../components/inbox-forms.js";
import { leadDetails, leadName, leadTags } from "../components/people.js";
import { h } from "../dom.js";
import { formatDateTime, plural } from "../format.js";
import { ChangeProbe, LiveRefresh } from "../poller.js";

const PAGE = 200;
const RECENT = 30; // what a refresh reads: the newest messages, where new ones and ticks land
const MAX_PAGE = 500;
const REFRESH_MS = 3_000;
const TICKET_PAGE = 100;
const TICKET_PAGES = 5; // open tickets are few: past 500 the link is left out rather than read everything

/** `#/connections/<id>/leads/<leadId>`: a lead and its conversation on that connection, read-only. */
export function renderLead(ctx, connectionId, leadId) {
  const connectionHref = `#/connections/${encodeURIComponent(connectionId)}`;
  const crumb = h("a", { href: connectionHref }, "Instância");
  const title = h("h1", { tabindex: "-1" }, "Lead");
  const subtitle = h("p", { class: "page-sub" });
  const facts = h("ul", { class: "tags lead__facts", "aria-label": "Situação do lead" });
  const ticketLink = h("a", { class: "btn btn-primary", href: "#/", hidden: true }, "Ver ticket");
  const startButton = h(
    "button",
    { type: "button", class: "btn btn-primary", hidden: true, "aria-expanded": "false" },
    "Iniciar conversa",
  );
  const startSlot = h("div", {});
  const summary = h("p", { class: "muted" });
  const ticketState = h("p", { class: "muted", hidden: true });
  const feedback = new Feedback();
  const slot = h("div", { class: "lead" });
  ctx.main.append(
    h(
      "nav",
      { class: "crumbs", "aria-label": "Trilha" },
      h("a", { href: "#/" }, "Instâncias"),
      " › ",
      crumb,
      " › ",
      h("a", { href: `${connectionHref}/leads` }, "Leads e tickets"),
      " › ",
      h("span", { "aria-current": "page" }, "Lead"),
    ),
    h("div", { class: "page-head" }, h("div", {}, title, subtitle), h("div", { class: "toolbar" }, ticketLink, startButton)),
    facts,
    feedback.element,
    startSlot,
    slot,
  );

  /** The open ticket of `conversation` among the connection's open tickets (null: none; undefined: not found in time). */
  async function openTicket(conversation) {
    let cursor = null;
    for (let page = 0; page < TICKET_PAGES; page += 1) {
      // latest activity first: a ticket of a conversation that just moved is on the first page
      const url = withQuery("/tickets", { connectionId, status: "open", sort: "activity", limit: TICKET_PAGE, cursor });
      const body = await ctx.api.get(url, { signal: ctx.signal });
      const ticket = body.tickets.find((t) => t.conversationId === conversation.id || t.leadId === leadId);
      if (ticket) return ticket;
      cursor = body.nextCursor;
      if (!cursor) return null;
    }
    return undefined;
  }

  // "Iniciar conversa": a manual ticket, whose first message the ticket's composer sends
  function closeStart() {
    startSlot.replaceChildren();
    startButton.setAttribute("aria-expanded", "false");
  }
  startButton.addEventListener("click", () => {
    if (startSlot.firstChild) return closeStart();
    const form = startConversationForm(ctx, {
      leadId,
      connectionId,
      onCancel: () => {
        closeStart();
        startButton.focus();
      },
      onDone: (ticket) => ctx.navigate(`#/tickets/${encodeURIComponent(ticket.id)}`),
    });
    startSlot.replaceChildren(form.element);
    startButton.setAttribute("aria-expanded", "true");
    form.focus();
  });

  const created = ctx.takeCreated();
  if (created?.lead?.id === leadId) {
    feedback.success(
      created.leadCreated
        ? "Lead criado. Use “Iniciar conversa” para enviar a primeira mensagem."
        : "Este contato já era um lead: nada foi alterado.",
    );
  }

  let shown = null; // { id, messages }: the conversation on screen
  const messagesPath = (id) => `/conversations/${segment(id)}/messages`;

  function showSummary(conversation) {
    summary.textContent = [
      plural(conversation.messageCount, "mensagem", "mensagens"),
      conversation.lastMessageAt ? `última em ${formatDateTime(conversation.lastMessageAt)}` : null,
    ]
      .filter(Boolean)
      .join(" · ");
  }

  function showTicket(ticket) {
    startButton.hidden = ticket !== null;
    ticketState.hidden = ticket !== null;
    if (ticket) {
      ticketLink.setAttribute("href", `#/tickets/${encodeURIComponent(ticket.id)}`);
      ticketLink.hidden = false;
    } else if (ticket === null) {
      ticketLink.hidden = true;
      ticketState.textContent =
        "Nenhum ticket aberto. O histórico importado não abre tickets: a próxima mensagem ao vivo deste contato abre um, ou use “Iniciar conversa”.";
    }
  }

  function showConversation(conversation) {
    if (!conversation) {
      summary.textContent = "Nenhuma conversa com este contato nesta instância.";
      slot.replaceChildren(summary);
      startButton.hidden = false;
      return;
    }
    showSummary(conversation);
    const messages = new Conversation({
      page: (cursor) =>
        ctx.api.get(withQuery(messagesPath(conversation.id), { latest: 1, limit: PAGE, cursor }), {
          signal: ctx.signal,
        }),
      onError: (error) => feedback.error(error, "Não foi possível carregar a conversa."),
      onRetryMedia: () => retryMedia(ctx, conversation.connectionId, feedback),
    });
    shown = { id: conversation.id, messages };
    slot.replaceChildren(summary, ticketState, messages.element);
    messages.load();
    openTicket(conversation).then(showTicket, () => {}); // the conversation is there without the link
  }

  function showLead(lead) {
    const name = leadName(lead);
    title.textContent = name;
    ctx.setTitle(`${name} · Lead`);
    subtitle.textContent = leadDetails(lead);
    facts.replaceChildren(...leadTags(lead));
  }

  let loaded = false;
  ctx.api
    .get(`/leads/${segment(leadId)}`, { signal: ctx.signal })
    .then(({ lead, conversations }) => {
      showLead(lead);
      showConversation(conversations.find((c) => c.connectionId === connectionId));
      loaded = true;
      live.start();
    })
    .catch((error) => {
      if (!isAbort(error)) {
        feedback.error(error, error.status === 404 ? "Lead não encontrado." : "Não foi possível carregar o lead.");
      }
    });

  // every few seconds, "anything new on this number?"; then the lead, its newest messages and its
  // open ticket again (a new message, a reaction, an App echo, a status, a ticket opened or closed)
  async function readAgain() {
    const { lead, conversations } = await ctx.api.get(`/leads/${segment(leadId)}`, { signal: ctx.signal });
    showLead(lead);
    const conversation = conversations.find((c) => c.connectionId === connectionId);
    if (!conversation) return;
    if (shown?.id !== conversation.id) {
      showConversation(conversation); // its first message since the page opened
      return;
    }
    showSummary(conversation);
    const page = await ctx.api.get(withQuery(messagesPath(conversation.id), { latest: 1, limit: RECENT }), {
      signal: ctx.signal,
    });
    if (shown.messages.leavesGap(page.messages, page.olderCursor)) {
      const limit = Math.min(MAX_PAGE, shown.messages.size + RECENT);
      const whole = await ctx.api.get(withQuery(messagesPath(conversation.id), { latest: 1, limit }), {
        signal: ctx.signal,
      });
      shown.messages.merge(whole.messages);
    } else {
      shown.messages.merge(page.messages);
    }
    showTicket(await openTicket(conversation));
  }

  const probe = new ChangeProbe({ api: ctx.api, connectionId, signal: ctx.signal });
  let refreshFailed = false;
  const live = new LiveRefresh({
    every: REFRESH_MS,
    fetch: async () => {
      if (loaded) await probe.refresh(readAgain);
    },
    onError: (error) => {
      refreshFailed = true;
      feedback.error(error, "A conversa não está sendo atualizada. Nova tentativa em instantes.");
    },
    onRecovered: () => {
      if (refreshFailed) feedback.clear();
      refreshFailed = false;
    },
  });
  ctx.api
    .get(`/connections/${segment(connectionId)}`, { signal: ctx.signal })
    .then(({ connection }) => {
      crumb.textContent = connectionName(connection);
    })
    .catch(() => {}); // the crumb keeps its generic name; the lead's own error is shown above
  return () => live.stop();
}

/** "Tentar de novo" on a file that failed: the connection's failed files are downloaded again. */
export async function retryMedia(ctx, connectionId, feedback) {
  try {
    const { data } = await ctx.api.request("POST", `/connections/${segment(connectionId)}/media/retry`, {
      signal: ctx.signal,
    });
    feedback.success(data.retried ? "Baixando a mídia de novo." : "A mídia já está sendo baixada.");
  } catch (error) {
    feedback.error(error, "Não foi possível pedir a mídia de novo.");
    throw error;
  }
}

