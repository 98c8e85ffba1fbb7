import { isAbort, segment, withQuery } from "../api.js";
import { Composer } from "../components/composer.js";
import { Conversation } from "../components/conversation.js";
import { Feedback } from "../components/feedback.js";
import { leadLine, leadName, statusTag, windowTag } from "../components/people.js";
import { TemplatePicker } from "../components/templates.js";
import { h } from "../dom.js";
import { formatDateTime } from "../format.js";
import { TICKET_ORIGIN_LABELS } from "../labels.js";
import { ChangeProbe, LiveRefresh } from "../poller.js";
import { retryMedia } from "./lead.js";

const PAGE = 100;
const RECENT = 30; // what a refresh reads: the newest messages, where new ones and ticks land
const REFRESH_MS = 3_000;
const MAX_PAGE = 500;
const RESYNC_GAP_MS = 30_000; // files that did not load ask for fresh links at most this often

/**
 * `#/tickets/<id>`: the conversation (history, live and the agent's replies) opening at its newest
 * message, the composer while the ticket is open, and a refresh every few seconds that brings the
 * customer's new messages and each reply's ticks.
 */
export function renderTicket(ctx, id) {
  const path = `/tickets/${segment(id)}`;
  const leadsCrumb = h("a", { href: "#/" }, "Leads e tickets");
  const title = h("h1", { tabindex: "-1" }, "Ticket");
  const subtitle = h("p", { class: "page-sub" });
  const facts = h("ul", { class: "tags ticket__facts", "aria-label": "Situação do ticket" });
  const feedback = new Feedback();
  const sendFeedback = new Feedback();
  const closeButton = h("button", { type: "button", class: "btn btn-danger", hidden: true, "aria-expanded": "false" }, "Fechar ticket");
  const reopenButton = h("button", { type: "button", class: "btn", hidden: true }, "Reabrir ticket");
  const confirmClose = h("button", { type: "button", class: "btn btn-danger" }, "Sim, fechar o ticket");
  const keepOpen = h("button", { type: "button", class: "btn btn-quiet" }, "Cancelar");
  const confirmPanel = h(
    "div",
    { class: "notice notice--info confirm", role: "group", "aria-label": "Confirmar o fechamento", hidden: true },
    h(
      "p",
      {},
      "Fechar este ticket? Ele sai da lista de abertos; a próxima mensagem ao vivo deste contato abre um ticket novo. Você pode reabri-lo depois.",
    ),
    h("div", { class: "form__actions" }, confirmClose, keepOpen),
  );
  let ticket = null;
  let composer = null;

  const actions = {
    reply: (message) => composer?.replyTo(message),
    resend: (message, button) => composer?.resend(message, button),
  };
  const conversation = new Conversation({
    page: async (cursor) => {
      const page = await ctx.api.get(withQuery(path, { latest: 1, limit: PAGE, cursor }), { signal: ctx.signal });
      show(page.ticket);
      return { messages: page.ticket.messages, olderCursor: page.olderCursor };
    },
    onError: (error) => {
      feedback.error(error, error.status === 404 ? "Ticket não encontrado." : "Não foi possível carregar o ticket.");
    },
    onRetryMedia: () => retryMedia(ctx, ticket.connectionId, feedback),
    onStaleMedia: () => {
      if (Date.now() - resyncedAt > RESYNC_GAP_MS) resync().catch(() => {}); // the next refresh says why
    },
  });
  const body = h("div", { class: "ticket", hidden: true }, conversation.element);
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
    h("div", { class: "page-head" }, h("div", {}, title, subtitle), h("div", { class: "toolbar" }, closeButton, reopenButton)),
    facts,
    confirmPanel,
    feedback.element,
    body,
  );

  /** The ticket part of an answer: the header, the facts, the composer. */
  function show(detail) {
    const { lead, messages, ...rest } = detail;
    if (!ticket) {
      const name = leadName(lead);
      title.textContent = name;
      ctx.setTitle(`${name} · Ticket`);
      subtitle.textContent = leadLine(lead);
      leadsCrumb.setAttribute("href", `#/connections/${encodeURIComponent(rest.connectionId)}/leads`);
      startComposer(rest.connectionId);
    }
    ticket = rest;
    showFacts();
    body.hidden = false;
  }

  function startComposer(connectionId) {
    const picker = new TemplatePicker({
      api: ctx.api,
      connectionId,
      signal: ctx.signal,
      onError: (error) => sendFeedback.error(error, "Não foi possível carregar os modelos."),
    });
    composer = new Composer({
      post: async (reply, key) => {
        const { data } = await ctx.api.request("POST", `${path}/messages`, {
          body: reply,
          headers: { "Idempotency-Key": key },
          signal: ctx.signal,
        });
        return data.message;
      },
      onSent: (message) => {
        conversation.merge([message], { own: true });
        live.now();
      },
      feedback: sendFeedback,
      picker,
    });
    body.append(sendFeedback.element, composer.element);
  }

  function showFacts() {
    const shown = [
      statusTag(ticket),
      h("li", { class: "tag" }, TICKET_ORIGIN_LABELS[ticket.originatedFrom] ?? ticket.originatedFrom),
      windowTag(ticket),
      h("li", { class: "tag" }, `Aberto em ${formatDateTime(ticket.createdAt)}`),
      ticket.closedAt ? h("li", { class: "tag" }, `Fechado em ${formatDateTime(ticket.closedAt)}`) : null,
    ];
    facts.replaceChildren(...shown.filter(Boolean)); // replaceChildren would write "null" for a missing one
    closeButton.hidden = ticket.status !== "open";
    reopenButton.hidden = ticket.status !== "closed";
    if (closeButton.hidden) hideConfirm();
    composer?.update(ticket);
    conversation.setActions(ticket.status === "open" ? actions : null);
  }

  function hideConfirm() {
    confirmPanel.hidden = true;
    closeButton.setAttribute("aria-expanded", "false");
  }

  // "Fechar ticket" asks first; a closed ticket can be reopened
  closeButton.addEventListener("click", () => {
    confirmPanel.hidden = false;
    closeButton.setAttribute("aria-expanded", "true");
    confirmClose.focus();
  });
  keepOpen.addEventListener("click", () => {
    hideConfirm();
    closeButton.focus();
  });

  async function setStatus(status, button, done, failure) {
    if (button.disabled) return;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      const { data } = await ctx.api.request("PATCH", path, { body: { status }, signal: ctx.signal });
      ticket = data.ticket;
      hideConfirm();
      showFacts();
      title.focus();
      feedback.success(done);
    } catch (error) {
      if (!isAbort(error)) feedback.error(error, failure);
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }

  confirmClose.addEventListener("click", () =>
    setStatus(
      "closed",
      confirmClose,
      "Ticket fechado. A próxima mensagem ao vivo deste contato abre um ticket novo.",
      "O ticket não foi fechado.",
    ),
  );
  reopenButton.addEventListener("click", () =>
    setStatus("open", reopenButton, "Ticket reaberto.", "O ticket não foi reaberto."),
  );

  /** Everything shown read again from the newest end (fresh file links; a hole filled). */
  let resyncedAt = 0;
  async function resync() {
    resyncedAt = Date.now();
    const limit = Math.min(MAX_PAGE, conversation.size + RECENT);
    const page = await ctx.api.get(withQuery(path, { latest: 1, limit }), { signal: ctx.signal });
    show(page.ticket);
    conversation.merge(page.ticket.messages);
  }

  // every few seconds, "anything new on this number?" (one small read while nothing is); then the
  // newest messages again: the customer's new ones, reactions, App echoes, each reply's ticks
  let refreshFailed = false;
  let probe = null;
  const live = new LiveRefresh({
    every: REFRESH_MS,
    fetch: async () => {
      if (!ticket) {
        // the first load failed: it is tried again, with the refresh's backoff
        if (!(await conversation.load())) throw conversation.lastError;
        feedback.clear(); // the first load's error goes with it
        return;
      }
      probe ??= new ChangeProbe({ api: ctx.api, connectionId: ticket.connectionId, signal: ctx.signal });
      await probe.refresh(async () => {
        const page = await ctx.api.get(withQuery(path, { latest: 1, limit: RECENT }), { signal: ctx.signal });
        if (conversation.leavesGap(page.ticket.messages, page.olderCursor)) {
          await resync(); // more came than a refresh reads (a hidden tab, a sleeping laptop)
          return;
        }
        show(page.ticket);
        conversation.merge(page.ticket.messages);
      });
    },
    onError: (error) => {
      if (!ticket) return; // the first load's own error is on screen
      refreshFailed = true;
      feedback.error(error, "A conversa não está sendo atualizada. Nova tentativa em instantes.");
    },
    onRecovered: () => {
      if (refreshFailed) feedback.clear();
      refreshFailed = false;
    },
  });
  // the time left in the windows goes down while the page is open
  const clock = setInterval(() => {
    if (ticket) showFacts();
  }, 30_000);
  conversation.load().then(() => live.start());
  return () => {
    clearInterval(clock);
    live.stop();
  };
}
