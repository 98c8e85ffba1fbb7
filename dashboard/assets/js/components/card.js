import { h, srOnly, uid } from "../dom.js";
import { formatDateTime, formatNumber, formatPhone, plural } from "../format.js";
import { ALERT_HINTS, ALERT_LABELS, MODE_LABELS, PHASE_LABELS } from "../labels.js";
import { technicalDetails } from "./feedback.js";
import { withTooltip } from "./tooltip.js";

const NO_SYNC_TEXT = {
  not_supported: "Números Cloud API não têm histórico para importar.",
  not_requested: "O histórico não foi pedido ao conectar este número.",
};

export function connectionName(connection) {
  return (
    connection.displayName ||
    formatPhone(connection.displayPhoneNumber) ||
    `Número ${connection.phoneNumberId}`
  );
}

function numberLine(connection) {
  const parts = [];
  if (connection.displayName && connection.displayPhoneNumber) parts.push(formatPhone(connection.displayPhoneNumber));
  parts.push(`ID do número ${connection.phoneNumberId}`);
  return parts.join(" · ");
}

/** The progress a card shows: 100 once completed, else the highest progress Meta reported. */
function progressOf(sync) {
  return sync.status === "completed" ? 100 : (sync.progress ?? 0);
}

function progress(sync) {
  if (sync.status in NO_SYNC_TEXT) return h("p", { class: "muted" }, NO_SYNC_TEXT[sync.status]);
  const value = progressOf(sync);
  // Meta sends the history newest first in three phases, each in numbered blocks
  const where =
    sync.phase === null
      ? "nenhum bloco recebido"
      : `último bloco: fase ${sync.phase} (${PHASE_LABELS[sync.phase] ?? "histórico"}) · bloco ${sync.chunkOrder}`;
  const labelId = uid("progresso");
  const fill = h("span", { class: "progress__fill" });
  fill.style.width = `${value}%`; // CSSOM, which the CSP allows (style attributes are not)
  return h(
    "div",
    { class: "card__progress" },
    h("span", { id: labelId, class: "visually-hidden" }, "Progresso do histórico"),
    h(
      "div",
      {
        class: "progress",
        role: "progressbar",
        "aria-labelledby": labelId,
        "aria-valuemin": 0,
        "aria-valuemax": 100,
        "aria-valuenow": value,
        "aria-valuetext": `${value}% · ${where}`,
      },
      fill,
    ),
    h(
      "p",
      { class: "progress__meta" },
      h("span", { class: "progress__where" }, where[0].toUpperCase() + where.slice(1)),
      h("span", { class: "progress__value" }, `${value}%`),
    ),
  );
}

function alert(sync) {
  if (!sync.alert) return null;
  const { code, since } = sync.alert;
  return h(
    "div",
    { class: "notice notice--warning card__alert", "data-alert": code },
    h("p", { class: "notice__title" }, h("span", { "aria-hidden": "true" }, "⚠ "), ALERT_LABELS[code] ?? code),
    h("p", {}, `Desde ${formatDateTime(since)}. ${ALERT_HINTS[code] ?? ""}`),
  );
}

/** A completed sync with chunks Meta never sent below the last one it did: what is missing and what it means. */
function gaps(sync) {
  const missing = sync.status === "completed" ? (sync.chunkGaps ?? []) : [];
  if (!missing.length) return null;
  const shown = missing.slice(0, 3).map(([phase, order]) => `fase ${phase} · bloco ${order}`);
  const more = missing.length > shown.length ? ` e mais ${formatNumber(missing.length - shown.length)}` : "";
  return h(
    "div",
    { class: "notice notice--warning card__gaps", "data-gaps": missing.length },
    h(
      "p",
      { class: "notice__title" },
      h("span", { "aria-hidden": "true" }, "⚠ "),
      plural(missing.length, "bloco do histórico não chegou", "blocos do histórico não chegaram"),
    ),
    h(
      "p",
      {},
      `Faltando: ${shown.join(", ")}${more}. As conversas desses blocos não aparecem no histórico. ` +
        "A Meta reenvia um bloco por até 7 dias; se chegar, ele é importado sozinho.",
    ),
  );
}

/** Why the sync stopped, in Portuguese with what to do; Meta's (or our) own words under "Detalhes técnicos". */
const SYNC_ERROR_TEXT = {
  2593109:
    "O negócio não autorizou compartilhar o histórico no WhatsApp Business App: nenhum bloco será enviado. Para importar o histórico, conecte o número de novo e aceite o compartilhamento no App.",
  chunk_failed:
    "Um bloco do histórico não pôde ser importado depois de várias tentativas. Use “Reprocessar blocos com falha” em Ver detalhes.",
};

function syncError(sync) {
  if (!sync.error) return null;
  const text = SYNC_ERROR_TEXT[sync.error.code] ?? "A Meta informou um erro na sincronização do histórico.";
  return h(
    "div",
    { class: "notice notice--error card__error" },
    h("p", {}, text),
    technicalDetails({ code: String(sync.error.code) }, sync.error.message),
  );
}

function counter(label, value) {
  return h("div", { class: "counter" }, h("dt", {}, label), h("dd", {}, formatNumber(value)));
}

/** What the card says where a sync state would say something untrue: a disconnected number syncs
 * nothing; a number waiting for consent that nothing was asked of (no token) waits for nothing. */
export function syncTruth(connection) {
  const sync = connection.historySync;
  if (connection.connectionStatus === "disconnected" && ["syncing", "pending_consent"].includes(sync.status)) {
    return { status: "Sincronização parada", text: null }; // the notice above says why and what to do
  }
  if (sync.status === "pending_consent" && !sync.requests?.length) {
    return {
      status: "Nada foi pedido à Meta",
      text: "Este número não tem token de acesso, então a sincronização não foi pedida. Conecte-o pelo cadastro da Meta (Embedded Signup) ou com um token.",
    };
  }
  return null;
}

/** The InstanceCard of the product requirements. `details: false` inside the details page itself. */
export function instanceCard(connection, { details = true, heading = "h2", title } = {}) {
  const sync = connection.historySync;
  const disconnected = connection.connectionStatus === "disconnected";
  const name = connectionName(connection);
  const titleId = uid("instancia");
  const badge = withTooltip(h("span", { class: "badge" }, connection.badge.label), connection.badge.tooltip, "badge");
  const truth = syncTruth(connection);
  return h(
    "article",
    {
      class: ["card", `card--${sync.status}`, disconnected && "card--disconnected"],
      "aria-labelledby": titleId,
    },
    h(
      "header",
      { class: "card__head" },
      h(heading, { id: titleId, class: "card__title" }, title ?? name),
      h("p", { class: "card__number" }, numberLine(connection)),
      h(
        "ul",
        { class: "tags", "aria-label": "Características" },
        h("li", { class: "tag" }, MODE_LABELS[connection.mode] ?? connection.mode),
        connection.verified
          ? h("li", { class: "tag tag--ok" }, h("span", { "aria-hidden": "true" }, "✓ "), "Verificado na Meta")
          : null,
        disconnected ? h("li", { class: "tag tag--danger" }, "Desconectado") : h("li", { class: "tag" }, "Ativo"),
      ),
    ),
    disconnected
      ? h(
          "p",
          { class: "notice notice--error card__disconnected" },
          h("strong", {}, "Número desconectado. "),
          "Nenhuma mensagem nova chega; o histórico e os contadores foram mantidos. Conecte-o de novo em “Nova Instância”.",
        )
      : null,
    h(
      "div",
      { class: "card__sync" },
      badge,
      // a number with no history to sync says so once (in the badge and the line below), not thrice
      sync.status in NO_SYNC_TEXT
        ? null
        : h(
            "p",
            { class: ["status", `status--${truth ? "stopped" : sync.status}`], "data-status": sync.status },
            truth ? truth.status : sync.statusLabel,
          ),
    ),
    truth ? (truth.text && h("p", { class: "muted card__truth" }, truth.text)) : progress(sync),
    truth ? null : alert(sync), // "nothing received" says nothing new where nothing can come
    truth ? null : gaps(sync),
    syncError(sync),
    sync.status in NO_SYNC_TEXT
      ? null // nothing was or will be imported: no row of zeros
      : h(
          "dl",
          { class: "counters" },
          counter("Mensagens importadas", sync.messagesImported),
          counter("Contatos", sync.contactsImported),
          counter("Conversas", sync.threadsImported),
          counter("Mídias pendentes", sync.mediaPending),
        ),
    mediaFiles(connection.media),
    sync.status in NO_SYNC_TEXT
      ? null
      : h(
          "p",
          { class: ["history-new", connection.historyLeadsWithNewMessages > 0 && "history-new--active"] },
          "Leads do histórico que voltaram a escrever: ",
          h("strong", {}, formatNumber(connection.historyLeadsWithNewMessages)),
        ),
    details
      ? h(
          "div",
          { class: "card__actions" },
          h(
            "a",
            { class: "btn btn-primary", href: `#/connections/${encodeURIComponent(connection.id)}`, "data-focus": "details" },
            "Ver detalhes",
            srOnly(` de ${name}`),
          ),
          h(
            "a",
            { class: "btn", href: `#/connections/${encodeURIComponent(connection.id)}/leads`, "data-focus": "leads" },
            "Leads e tickets",
            srOnly(` de ${name}`),
          ),
        )
      : null,
  );
}

/** The number's media files by state, when it has any: "Arquivos de mídia: 5 guardados · 1 expirado". */
const MEDIA_FILE_STATES = [
  ["stored", "guardado", "guardados"],
  ["pending", "baixando", "baixando"],
  ["failed", "com falha", "com falha"],
  ["expired", "expirado", "expirados"],
  ["unavailable", "indisponível", "indisponíveis"],
  ["tooLarge", "grande demais", "grandes demais"],
];

function mediaFiles(media) {
  const parts = MEDIA_FILE_STATES.filter(([key]) => media?.[key] > 0).map(
    ([key, one, many]) => `${formatNumber(media[key])} ${media[key] === 1 ? one : many}`,
  );
  return parts.length ? h("p", { class: "card__media" }, "Arquivos de mídia: ", parts.join(" · ")) : null;
}

