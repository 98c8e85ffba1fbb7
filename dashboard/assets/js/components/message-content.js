// What a message says, by its type: text and media as they came, the types without a body
// (location, contacts, buttons, orders...) as a readable summary, an unknown type with its raw content.
import { h } from "../dom.js";
import { plural } from "../format.js";
import { CONTENT_LABELS, MEDIA_LABELS } from "../labels.js";

function mapLink(place) {
  const { latitude, longitude } = place ?? {};
  if (typeof latitude !== "number" || typeof longitude !== "number") return null;
  const href = `https://www.openstreetmap.org/?mlat=${latitude}&mlon=${longitude}#map=17/${latitude}/${longitude}`;
  return h("a", { class: "msg__link", href, target: "_blank", rel: "noopener noreferrer" }, "Abrir no mapa");
}

function money(value, currency) {
  try {
    return new Intl.NumberFormat("pt-BR", { style: "currency", currency }).format(value);
  } catch {
    return null; // no currency, or not an ISO code
  }
}

/** "3 itens · R$ 120,00": the units ordered and, when they share a currency, the total. */
function orderLine(items) {
  if (!Array.isArray(items) || !items.length) return null;
  const units = items.reduce((sum, item) => sum + (Number(item.quantity) || 0), 0);
  const total = items.reduce((sum, item) => sum + Number(item.quantity) * Number(item.item_price), 0);
  const currencies = new Set(items.map((item) => item.currency));
  const price = currencies.size === 1 && Number.isFinite(total) ? money(total, [...currencies][0]) : null;
  return [plural(units, "item", "itens"), price].filter(Boolean).join(" · ");
}

/** Each type without a body → {icon, label, text, more}, from `content` where it says more than `body`. */
const SUMMARIES = {
  location: (message, place) => ({
    icon: "📍",
    text: [place?.name, place?.address].filter(Boolean).join(", ") || message.body,
    more: mapLink(place),
  }),
  contacts: (message) => ({ icon: "👤", text: message.body }),
  interactive: (message, reply) => ({
    label: CONTENT_LABELS[reply?.type] ?? "Resposta interativa",
    text: reply?.[reply?.type]?.title ?? message.body,
  }),
  button: (message, button) => ({ text: button?.text ?? message.body }),
  order: (message, order) => ({
    icon: "🛒",
    text: orderLine(order?.product_items),
    more: message.body ? h("p", { class: "msg__body" }, message.body) : null,
  }),
  system: (message) => ({ text: message.body }),
  unsupported: (message) => ({ text: message.body }),
};

function describe(message) {
  const summary = SUMMARIES[message.type]?.(message, message.content);
  return summary ? { label: CONTENT_LABELS[message.type], ...summary } : null;
}

function hasMedia(message) {
  return Boolean(message.media) || message.type === "media_placeholder";
}

/** A type this dashboard does not know yet (a poll...): its name, and Meta's object as it came. */
function isUnknown(message) {
  return message.type !== "text" && !hasMedia(message) && message.content !== null && message.content !== undefined;
}

function unknownLabel(message) {
  return `Mensagem do tipo “${message.type}”`;
}

/** The message in one line of plain text, for the quote above a reply. */
export function summaryText(message) {
  if (message.deleted) return "Mensagem apagada";
  const summary = describe(message);
  if (summary) {
    const said = summary.text ? `${summary.label}: ${summary.text}` : summary.label;
    return summary.icon ? `${summary.icon} ${said}` : said;
  }
  if (hasMedia(message)) {
    return [MEDIA_LABELS[message.type] ?? "Mídia", message.media?.caption].filter(Boolean).join(": ");
  }
  if (message.body) return message.body;
  return isUnknown(message) ? unknownLabel(message) : `[${message.type}]`;
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

function rawContent(content) {
  return h(
    "details",
    { class: "msg__raw" },
    h("summary", {}, "Conteúdo original"),
    h("pre", {}, typeof content === "string" ? content : JSON.stringify(content, null, 2)),
  );
}

/** The nodes of what `message` says, inside its bubble. */
export function messageContent(message) {
  if (message.deleted) {
    return h("p", { class: "msg__deleted" }, h("span", { "aria-hidden": "true" }, "⊘ "), "Mensagem apagada");
  }
  const summary = describe(message);
  if (summary) {
    return [
      h(
        "p",
        { class: "msg__body msg__summary" },
        summary.icon ? h("span", { "aria-hidden": "true" }, `${summary.icon} `) : null,
        h("span", { class: "msg__kind" }, summary.text ? `${summary.label}: ` : summary.label),
        summary.text,
      ),
      summary.more,
    ];
  }
  const unknown = isUnknown(message);
  return [
    hasMedia(message) ? media(message) : null,
    unknown ? h("p", { class: "msg__body msg__summary" }, h("span", { class: "msg__kind" }, unknownLabel(message))) : null,
    message.body ? h("p", { class: "msg__body" }, message.body) : null,
    unknown ? rawContent(message.content) : null,
    !hasMedia(message) && !message.body && !unknown ? h("p", { class: "msg__body muted" }, `[${message.type}]`) : null,
  ];
}
