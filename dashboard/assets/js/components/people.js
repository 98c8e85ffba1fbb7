import { h } from "../dom.js";
import { formatDateTime, formatPhone, windowState } from "../format.js";
import { LEAD_SOURCE_LABELS, TICKET_STATUS_LABELS } from "../labels.js";

/** How a lead is called: its WhatsApp name, else its number, else Meta's user id. */
export function leadName(lead) {
  return lead.pushName || formatPhone(lead.phoneNumber) || lead.userId || "Contato sem nome";
}

/** What else identifies a lead besides its name: its number and Meta's user id, or that it has no name. */
export function leadDetails(lead) {
  const name = leadName(lead);
  const ids = [formatPhone(lead.phoneNumber), lead.userId].filter((part) => part && part !== name);
  return (lead.pushName ? ids : ["Sem nome no WhatsApp", ...ids]).join(" · ");
}

/** "+55 11 96666-4001 · Lead: Contatos do App, com histórico" (the number only when it is not the name). */
export function leadLine(lead) {
  const phone = formatPhone(lead.phoneNumber);
  return [
    phone === leadName(lead) ? null : phone,
    `Lead: ${LEAD_SOURCE_LABELS[lead.source] ?? lead.source}${lead.hasHistory ? ", com histórico" : ""}`,
  ]
    .filter(Boolean)
    .join(" · ");
}

/** List items of a lead's facts: its origin, its history, its removal from the App's contacts. */
export function leadTags(lead) {
  return [
    h("li", { class: ["tag", `source--${lead.source}`] }, LEAD_SOURCE_LABELS[lead.source] ?? lead.source),
    lead.hasHistory ? h("li", { class: "tag" }, "com histórico") : null,
    lead.isActive ? null : h("li", { class: "tag tag--danger" }, `removido dos contatos em ${formatDateTime(lead.deletedAt)}`),
  ].filter(Boolean);
}

/** List items of a ticket's facts. */
export function statusTag(ticket) {
  return h("li", { class: ["tag", `tag--${ticket.status}`] }, TICKET_STATUS_LABELS[ticket.status] ?? ticket.status);
}

/** "sem prazo de atendimento" (history leads), the time left, or "prazo de atendimento expirado", each
 * explained in its title (the product's 24 h, §8.3; Meta's window is the composer's). */
const WINDOW_HINTS = {
  none: "Ticket de um lead do histórico: sem o prazo de 24 h de atendimento (o histórico nunca abre prazo).",
  open: "Prazo de atendimento: 24 h depois da última mensagem ao vivo do cliente.",
  expired: "O prazo de 24 h de atendimento terminou: o cliente não escreve ao vivo há mais de 24 h.",
};

export function windowTag(ticket) {
  const state = windowState(ticket.messageWindowExpiresAt);
  return h(
    "li",
    { class: ["tag", `window--${state.kind}`], "data-window": state.kind, title: WINDOW_HINTS[state.kind] },
    state.label,
  );
}
