import { h } from "../dom.js";
import { formatPhone, windowState } from "../format.js";
import { TICKET_STATUS_LABELS } from "../labels.js";

/** How a lead is called: its WhatsApp name, else its number, else Meta's user id. */
export function leadName(lead) {
  return lead.pushName || formatPhone(lead.phoneNumber) || lead.userId || "Contato sem nome";
}

/** List items of a ticket's facts. */
export function statusTag(ticket) {
  return h("li", { class: ["tag", `tag--${ticket.status}`] }, TICKET_STATUS_LABELS[ticket.status] ?? ticket.status);
}

/** "sem janela" (history leads: reply any time), the time left, or "janela expirada". */
export function windowTag(ticket) {
  const state = windowState(ticket.messageWindowExpiresAt);
  return h("li", { class: ["tag", `window--${state.kind}`], "data-window": state.kind }, state.label);
}
