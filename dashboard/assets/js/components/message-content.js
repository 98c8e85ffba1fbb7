// What a message says, by its type: text and media as they came, the types without a body
// (location, contacts, buttons, orders...) as a readable summary, an unknown type with its raw content.
import { h } from "../dom.js";
import { formatBytes, plural } from "../format.js";
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
  if (message.media?.state) return null; // a file Meta announced (or refused: 131052): shown as media
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

/** What each media state says of a file of `kind` ("Imagem"), where there is no file to show (CONTRACT §7
 * Media): the kind said once ("Mídia do histórico…", never "Mídia: Mídia do histórico…"). */
const MEDIA_STATE_TEXT = {
  pending: (kind) => `${kind}: baixando…`,
  placeholder: (kind) => `${kind} do histórico: o arquivo ainda não chegou`,
  unavailable: (kind) => `${kind} do histórico indisponível`,
  expired: (kind) => `${kind}: expirou na Meta`,
  too_large: (kind) => `${kind}: arquivo grande demais`,
  failed: (kind) => `${kind}: falha ao baixar`,
};

const MEDIA_STATE_HINT = {
  expired: "A Meta guarda os arquivos por 7 dias; este não foi baixado a tempo.",
  too_large: "A Meta não entrega arquivos acima de 100 MB; peça ao cliente outro formato ou um link.",
  unavailable: "A Meta só reenvia mídias do histórico dos 14 dias antes da conexão.",
};

/** Why a download failed, in Portuguese (Meta's own words, often English, stay in the tooltip). */
const FAILURE_HINTS = {
  token: "A Meta recusou o token de acesso deste número: reconecte o número e tente de novo.",
  no_token: "Este número não tem token de acesso: conecte-o com um token para baixar as mídias.",
  untrusted_media_host: "O endereço do arquivo não era da Meta: o arquivo não foi baixado.",
  internal: "Um erro nosso impediu o download; a equipe foi avisada. Tente de novo mais tarde.",
};

function failureHint(error) {
  const text = FAILURE_HINTS[error?.code] ?? "A Meta não entregou o arquivo depois de várias tentativas.";
  return error?.message ? h("span", { title: `Meta: ${error.message}` }, text) : text;
}

function mediaState(message) {
  if (message.media?.state) return message.media.state;
  return message.type === "media_placeholder" || !message.media?.id ? "placeholder" : "pending";
}

function baseType(mimeType) {
  return (mimeType ?? "").split(";")[0].trim().toLowerCase();
}

/** A player when this browser plays the type (Ogg Opus voice notes on older Safari do not), else a download. */
function player(tag, file, kind, onMediaError) {
  const probe = document.createElement(tag);
  const download = h("a", { class: "msg__file", href: file.url, download: file.filename ?? "" }, `Baixar ${kind.toLowerCase()}`);
  if (!probe.canPlayType(file.mimeType ?? "") && !probe.canPlayType(baseType(file.mimeType))) {
    return [h("p", { class: "msg__media-note" }, "Este navegador não toca este formato."), download];
  }
  return h(
    tag,
    { class: `msg__${tag}`, controls: true, preload: "metadata", src: file.url, on: { error: () => onMediaError?.() } },
    download,
  );
}

function storedFile(message, file, kind, onMediaError) {
  const label = file.caption ?? kind;
  if (message.type === "image" || message.type === "sticker") {
    const sticker = message.type === "sticker";
    return h(
      "a",
      { class: "msg__image-link", href: file.url, target: "_blank", rel: "noopener noreferrer", title: "Abrir em tamanho real" },
      h("img", {
        class: sticker ? "msg__sticker" : "msg__image",
        src: file.url,
        alt: label,
        loading: "lazy",
        on: { error: () => onMediaError?.() },
      }),
    );
  }
  if (message.type === "audio") {
    const label = file.voice ? "Mensagem de voz" : kind;
    return [h("p", { class: "msg__voice" }, label), player("audio", file, label, onMediaError)];
  }
  if (message.type === "video") return player("video", file, kind, onMediaError);
  const size = formatBytes(file.size);
  return h(
    "a",
    { class: "msg__file", href: file.url, download: file.filename ?? "" },
    file.filename ?? kind,
    size ? h("span", { class: "msg__file-size" }, ` · ${size}`) : null,
  );
}

function media(message, { onRetryMedia, onMediaError } = {}) {
  const file = message.media ?? {};
  const kind = MEDIA_LABELS[message.type] ?? "Mídia";
  const state = mediaState(message);
  const caption = file.caption ? h("p", { class: "msg__caption" }, file.caption) : null;
  if (state === "stored" && file.url) {
    return h(
      "figure",
      { class: "msg__media msg__media--stored", "data-media-state": state },
      storedFile(message, file, kind, onMediaError),
      caption,
    );
  }
  const retry =
    state === "failed" && onRetryMedia
      ? h("button", { type: "button", class: "btn msg__retry", on: { click: (event) => retryMedia(event, onRetryMedia) } }, "Tentar de novo")
      : null;
  const hint = MEDIA_STATE_HINT[state] ?? (state === "failed" ? failureHint(file.error) : null);
  return h(
    "div",
    { class: ["msg__media", "msg__media--waiting", `msg__media--${state}`], "data-media-state": state },
    h("p", { class: "msg__media-state" }, (MEDIA_STATE_TEXT[state] ?? MEDIA_STATE_TEXT.pending)(kind)),
    hint ? h("p", { class: "msg__media-note" }, hint) : null,
    retry,
    caption,
  );
}

async function retryMedia(event, onRetryMedia) {
  const button = event.currentTarget;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  button.textContent = "Baixando mídia…";
  try {
    await onRetryMedia();
  } catch {
    button.disabled = false;
    button.textContent = "Tentar de novo";
  } finally {
    button.removeAttribute("aria-busy");
  }
}

function rawContent(content) {
  return h(
    "details",
    { class: "msg__raw" },
    h("summary", {}, "Conteúdo original"),
    h("pre", {}, typeof content === "string" ? content : JSON.stringify(content, null, 2)),
  );
}

/** The nodes of what `message` says, inside its bubble (`onRetryMedia`: "Tentar de novo" of a failed file). */
export function messageContent(message, options = {}) {
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
    hasMedia(message) ? media(message, options) : null,
    unknown ? h("p", { class: "msg__body msg__summary" }, h("span", { class: "msg__kind" }, unknownLabel(message))) : null,
    // a media's caption is its body too: shown once, under the file; a refused file's body is Meta's
    // English error, which its state says in Portuguese
    message.body && !(hasMedia(message) && (message.body === message.media?.caption || !message.media?.id))
      ? h("p", { class: "msg__body" }, message.body)
      : null,
    unknown ? rawContent(message.content) : null,
    !hasMedia(message) && !message.body && !unknown ? h("p", { class: "msg__body muted" }, `[${message.type}]`) : null,
  ];
}
