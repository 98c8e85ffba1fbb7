import { isAbort, segment, withQuery } from "../api.js";
import { Conversation } from "../components/conversation.js";
import { retryMedia } from "./lead.js";
import { Feedback } from "../components/feedback.js";
import { leadLine, leadName, statusTag, windowTag } from "../components/people.js";
import { h } from "../dom.js";
import { formatDateTime } from "../format.js";
import { TICKET_ORIGIN_LABELS } from "../labels.js";

const PAGE = 200;

/** `#/tickets/<id>`: the whole conversation, history and live together, oldest first. */
export function renderTicket(ctx, id) {
  const path = `/tickets/${segment(id)}`;
  const leadsCrumb = h("a", { href: "#/" }, "Leads e tickets");
  const title = h("h1", { tabindex: "-1" }, "Ticket");
  const subtitle = h("p", { class: "page-sub" });
  const facts = h("ul", { class: "tags ticket__facts", "aria-label": "Situação do ticket" });
  const feedback = new Feedback();
  const closeButton = h("button", { type: "button", class: "btn btn-danger", hidden: true }, "Fechar ticket");
  let ticket = null;
  const conversation = new Conversation({
    page: async (cursor) => {
      const page = await ctx.api.get(withQuery(path, { limit: PAGE, cursor }), { signal: ctx.signal });
      const { lead, messages, ...rest } = page.ticket;
      if (!ticket) {
        const name = leadName(lead);
        title.textContent = name;
        ctx.setTitle(`${name} · Ticket`);
        subtitle.textContent = leadLine(lead);
        leadsCrumb.setAttribute("href", `#/connections/${encodeURIComponent(rest.connectionId)}/leads`);
      }
      ticket = rest;
      showFacts();
      body.hidden = false;
      return { messages, nextCursor: page.nextCursor };
    },
    onError: (error) => {
      feedback.error(error, error.status === 404 ? "Ticket não encontrado." : "Não foi possível carregar o ticket.");
    },
    onRetryMedia: () => retryMedia(ctx, ticket.connectionId, feedback),
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

  function showFacts() {
    facts.replaceChildren(
      statusTag(ticket),
      h("li", { class: "tag" }, TICKET_ORIGIN_LABELS[ticket.originatedFrom] ?? ticket.originatedFrom),
      windowTag(ticket),
      h("li", { class: "tag" }, `Aberto em ${formatDateTime(ticket.createdAt)}`),
    );
    closeButton.hidden = ticket.status !== "open";
  }

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
  conversation.load();
  return () => clearInterval(clock);
}
