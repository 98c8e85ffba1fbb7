import { isAbort, segment, withQuery } from "../api.js";
import { connectionName } from "../components/card.js";
import { Feedback } from "../components/feedback.js";
import { newLeadForm } from "../components/inbox-forms.js";
import { PagedList } from "../components/paged.js";
import { leadDetails, leadName, leadTags, statusTag, windowTag } from "../components/people.js";
import { h, srOnly, uid } from "../dom.js";
import { formatDateTime, formatPhone } from "../format.js";
import { LEAD_SOURCE_LABELS, TICKET_ORIGIN_LABELS } from "../labels.js";
import { ChangeProbe, LiveRefresh } from "../poller.js";

const REFRESH_MS = 5_000;

const TICKET_FILTERS = [
  ["", "Todos"],
  ["open", "Abertos"],
  ["closed", "Fechados"],
];
const SOURCE_FILTERS = [["", "Todas"], ...Object.entries(LEAD_SOURCE_LABELS)];

function select(label, options, value, onChange) {
  const id = uid("filtro");
  const control = h(
    "select",
    { id, on: { change: (event) => onChange(event.target.value) } },
    options.map(([optionValue, text]) => h("option", { value: optionValue, selected: optionValue === value }, text)),
  );
  return h("div", { class: "filter" }, h("label", { for: id }, label), control);
}

function leadItem(connectionId, lead) {
  const href = `#/connections/${encodeURIComponent(connectionId)}/leads/${encodeURIComponent(lead.id)}`;
  return h(
    "li",
    { class: ["row", !lead.isActive && "row--inactive"], "data-source": lead.source },
    h(
      "div",
      { class: "row__main" },
      h("a", { class: "row__title", href }, leadName(lead), srOnly(" — ver conversa")),
      h("p", { class: "row__sub" }, leadDetails(lead)),
    ),
    h("ul", { class: "tags", "aria-label": "Situação do lead" }, leadTags(lead)),
    h("p", { class: "row__time" }, lead.lastMessageAt ? `Última mensagem: ${formatDateTime(lead.lastMessageAt)}` : "Sem mensagens"),
  );
}

/** `#/connections/<id>/leads?status=&source=`: the connection's tickets and leads, filterable. */
export function renderLeads(ctx, id, params) {
  const filters = { status: params.get("status") ?? "", source: params.get("source") ?? "" };
  const crumb = h("a", { href: `#/connections/${encodeURIComponent(id)}` }, "Instância");
  const subtitle = h("p", { class: "page-sub" });
  const feedback = new Feedback();
  // Tickets carry only their lead's id. Their names come from the leads list read at the same time;
  // only a lead missing from its first page is read on its own (once).
  const listed = new Map();
  const lookups = new Map();
  let leadsRead = Promise.resolve();

  function lookUpLead(leadId) {
    if (!lookups.has(leadId)) {
      lookups.set(
        leadId,
        leadsRead.then(
          () =>
            listed.get(leadId) ??
            ctx.api.get(`/leads/${segment(leadId)}`, { signal: ctx.signal }).then((body) => body.lead),
        ),
      );
    }
    return lookups.get(leadId);
  }

  function ticketItem(ticket) {
    const name = h("span", {}, "…");
    lookUpLead(ticket.leadId).then(
      (lead) => {
        name.textContent = leadName(lead);
      },
      (error) => {
        if (!isAbort(error)) name.textContent = "Contato";
      },
    );
    return h(
      "li",
      { class: "row", "data-origin": ticket.originatedFrom },
      h(
        "div",
        { class: "row__main" },
        h("a", { class: "row__title", href: `#/tickets/${encodeURIComponent(ticket.id)}` }, name, srOnly(" — abrir ticket")),
        h("p", { class: "row__sub" }, `Aberto em ${formatDateTime(ticket.createdAt)}`),
      ),
      h(
        "ul",
        { class: "tags", "aria-label": "Situação do ticket" },
        statusTag(ticket),
        h("li", { class: "tag" }, TICKET_ORIGIN_LABELS[ticket.originatedFrom] ?? ticket.originatedFrom),
        windowTag(ticket),
      ),
      h("p", { class: "row__time" }, `Última mensagem: ${formatDateTime(ticket.lastMessageAt)}`),
    );
  }

  const tickets = new PagedList({
    ctx,
    url: (cursor) => withQuery("/tickets", { connectionId: id, status: filters.status, sort: "activity", cursor }),
    items: (body) => body.tickets,
    item: ticketItem,
    label: "Tickets, a última mensagem primeiro",
    emptyText: "",
    failure: "Não foi possível carregar os tickets.",
  });
  const leads = new PagedList({
    ctx,
    url: (cursor) => withQuery("/leads", { connectionId: id, source: filters.source, sort: "activity", cursor }),
    items: (body) => {
      for (const lead of body.leads) listed.set(lead.id, lead);
      return body.leads;
    },
    item: (lead) => leadItem(id, lead),
    label: "Leads, a última mensagem primeiro",
    emptyText: "",
    failure: "Não foi possível carregar os leads.",
  });

  function emptyTexts() {
    tickets.setEmptyText(
      filters.status
        ? "Nenhum ticket com esta situação."
        : "Nenhum ticket ainda. Só mensagens ao vivo abrem tickets: o histórico importado não cria tickets.",
    );
    leads.setEmptyText(filters.source ? "Nenhum lead com esta origem." : "Nenhum lead nesta instância ainda.");
  }

  // Filters live in the address (a link keeps them) without re-rendering the page.
  function filterBy(name, value) {
    filters[name] = value;
    const query = new URLSearchParams(Object.entries(filters).filter(([, v]) => v)).toString();
    history.replaceState(null, "", `#/connections/${encodeURIComponent(id)}/leads${query ? `?${query}` : ""}`);
    emptyTexts();
    if (name === "status") tickets.load(true);
    else leadsRead = leads.load(true);
  }

  // "Novo lead": the lead, then its page, where a conversation can start
  const newLeadSlot = h("div", {});
  const newLeadButton = h("button", { type: "button", class: "btn btn-primary", "aria-expanded": "false" }, "Novo lead");
  function closeNewLead() {
    newLeadSlot.replaceChildren();
    newLeadButton.setAttribute("aria-expanded", "false");
    newLeadButton.focus();
  }
  newLeadButton.addEventListener("click", () => {
    if (newLeadSlot.firstChild) return closeNewLead();
    const form = newLeadForm(ctx, {
      onCancel: closeNewLead,
      onDone: (lead, created) => {
        ctx.created({ lead, leadCreated: created });
        ctx.navigate(`#/connections/${encodeURIComponent(id)}/leads/${encodeURIComponent(lead.id)}`);
      },
    });
    newLeadSlot.replaceChildren(form.element);
    newLeadButton.setAttribute("aria-expanded", "true");
    form.focus();
  });

  const ticketsTitle = uid("tickets");
  const leadsTitle = uid("leads");
  ctx.main.append(
    h(
      "nav",
      { class: "crumbs", "aria-label": "Trilha" },
      h("a", { href: "#/" }, "Instâncias"),
      " › ",
      crumb,
      " › ",
      h("span", { "aria-current": "page" }, "Leads e tickets"),
    ),
    h(
      "div",
      { class: "page-head" },
      h("div", {}, h("h1", { tabindex: "-1" }, "Leads e tickets"), subtitle),
      h("div", { class: "toolbar" }, newLeadButton),
    ),
    feedback.element,
    newLeadSlot,
    h(
      "div",
      { class: "columns" },
      h(
        "section",
        { class: "panel", "aria-labelledby": ticketsTitle },
        h(
          "div",
          { class: "panel__head" },
          h("h2", { id: ticketsTitle, class: "panel__title" }, "Tickets"),
          select("Situação", TICKET_FILTERS, filters.status, (value) => filterBy("status", value)),
        ),
        tickets.element,
      ),
      h(
        "section",
        { class: "panel", "aria-labelledby": leadsTitle },
        h(
          "div",
          { class: "panel__head" },
          h("h2", { id: leadsTitle, class: "panel__title" }, "Leads"),
          select("Origem", SOURCE_FILTERS, filters.source, (value) => filterBy("source", value)),
        ),
        leads.element,
      ),
    ),
  );

  ctx.api
    .get(`/connections/${segment(id)}`, { signal: ctx.signal })
    .then(({ connection }) => {
      const name = connectionName(connection);
      crumb.textContent = name;
      subtitle.textContent = `${name} · ${formatPhone(connection.displayPhoneNumber) || `ID do número ${connection.phoneNumberId}`}`;
      ctx.setTitle(`${name} · Leads e tickets`);
    })
    .catch((error) => {
      if (!isAbort(error)) feedback.error(error, error.status === 404 ? "Instância não encontrada." : undefined);
    });
  emptyTexts();
  leadsRead = leads.load(true);
  tickets.load(true);

  // every few seconds, "anything new on this number?" (one small read while nothing is); then both
  // lists again: a new customer, a message that moves a lead or a ticket up, a ticket opened or closed
  const probe = new ChangeProbe({ api: ctx.api, connectionId: id, signal: ctx.signal });
  const live = new LiveRefresh({
    every: REFRESH_MS,
    fetch: () =>
      probe.refresh(async () => {
        lookups.clear(); // names as the lists read now give them
        const reading = leads.changed();
        leadsRead = reading.catch(() => {}); // names then come from a read of their own
        await Promise.all([reading, tickets.changed()]);
      }),
  });
  live.start();
  return () => live.stop();
}
