import { isAbort, segment, withQuery } from "../api.js";
import { connectionName, instanceCard } from "../components/card.js";
import { Feedback, technicalDetails } from "../components/feedback.js";
import { PagedList } from "../components/paged.js";
import { h, keepFocus, srOnly, uid } from "../dom.js";
import { formatDateTime, formatDuration, formatNumber, plural } from "../format.js";
import {
  CHUNK_STATUS_LABELS,
  LOG_FIELD_LABELS,
  LOG_KIND_LABELS,
  OUTCOME_LABELS,
  PHASE_LABELS,
  SYNC_TYPE_LABELS,
  errorText,
  graphErrorText,
  logEventLabel,
  logStatusLabel,
} from "../labels.js";
import { AutoRefresh, UNCHANGED, describeRefresh, syncDelay } from "../poller.js";

const LOG_PAGE = 20;

function section(title, ...content) {
  const id = uid("secao");
  return h("section", { class: "panel", "aria-labelledby": id }, h("h2", { id, class: "panel__title" }, title), ...content);
}

/** Chunk orders missing between 1 and the highest order seen in each phase (as the API's report counts them). */
function missingChunks(chunks, report) {
  const seen = new Map();
  for (const chunk of chunks) {
    if (!seen.has(chunk.phase)) seen.set(chunk.phase, new Set());
    seen.get(chunk.phase).add(chunk.chunkOrder);
  }
  const missing = new Set((report?.chunkGaps ?? []).map(([phase, order]) => `${phase}:${order}`));
  for (const [phase, orders] of seen) {
    for (let order = 1; order < Math.max(...orders); order += 1) {
      if (!orders.has(order)) missing.add(`${phase}:${order}`);
    }
  }
  return missing;
}

function chip(phase, order, chunk) {
  const status = chunk?.status ?? "missing";
  return h(
    "li",
    {
      class: ["chip", `chip--${status}`],
      "data-chunk": `${phase}:${order}`,
      "data-status": status,
      title: chunk
        ? `Recebido em ${formatDateTime(chunk.receivedAt)} · ${plural(chunk.threads, "conversa", "conversas")}`
        : "Este bloco não chegou",
    },
    h("span", { class: "chip__order" }, `bloco ${order}`),
    chunk ? h("span", { class: "chip__meta" }, `${chunk.progress}% · ${plural(chunk.messages, "msg", "msgs")}`) : null,
    status === "processed"
      ? srOnly(`, ${CHUNK_STATUS_LABELS.processed}`)
      : h("span", { class: "chip__state" }, CHUNK_STATUS_LABELS[status]),
  );
}

function chunkTimeline(chunks, report) {
  const missing = missingChunks(chunks, report);
  if (!chunks.length && !missing.size) {
    return h("p", { class: "muted" }, "Nenhum bloco de histórico recebido ainda.");
  }
  const phases = new Map();
  const orders = (phase) => {
    if (!phases.has(phase)) phases.set(phase, new Map());
    return phases.get(phase);
  };
  for (const chunk of chunks) orders(chunk.phase).set(chunk.chunkOrder, chunk);
  for (const key of missing) {
    const [phase, order] = key.split(":").map(Number);
    orders(phase).set(order, null);
  }
  const failed = chunks.filter((c) => c.status === "failed").length;
  return h(
    "div",
    { class: "timeline-chunks" },
    h(
      "p",
      { class: "timeline-chunks__summary" },
      `${plural(chunks.length, "bloco recebido", "blocos recebidos")} · ${plural(failed, "com falha", "com falha")} · ${formatNumber(missing.size)} faltando`,
    ),
    h(
      "ol",
      { class: "phases" },
      [...phases.keys()]
        .sort((a, b) => a - b)
        .map((phase) =>
          h(
            "li",
            { class: "phase", "data-phase": phase },
            h(
              "h3",
              { class: "phase__title" },
              `Fase ${phase}`,
              PHASE_LABELS[phase] ? h("span", { class: "muted" }, ` · ${PHASE_LABELS[phase]}`) : null,
            ),
            h(
              "ol",
              { class: "chips", "aria-label": `Blocos da fase ${phase}` },
              [...phases.get(phase).entries()].sort(([a], [b]) => a - b).map(([order, chunk]) => chip(phase, order, chunk)),
            ),
          ),
        ),
    ),
    h(
      "ul",
      { class: "legend", "aria-label": "Legenda" },
      ["processed", "pending", "failed", "missing"].map((status) =>
        h("li", { class: ["legend__item", `chip--${status}`] }, CHUNK_STATUS_LABELS[status]),
      ),
    ),
  );
}

function stat(label, value, more = null) {
  return h("div", { class: "stat" }, h("dt", {}, label), h("dd", {}, value, more));
}

function completionReport(report) {
  if (!report) return h("p", { class: "muted" }, "O relatório aparece quando a sincronização for concluída.");
  const phases = Object.entries(report.messagesByPhase)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([phase, count]) => `Fase ${phase}: ${formatNumber(count)}`);
  const direction = report.messagesByDirection;
  return h(
    "dl",
    { class: "stats" },
    stat("Mensagens por fase", phases.join(" · ") || "nenhuma"),
    stat(
      "Por direção",
      `Recebidas: ${formatNumber(direction.INBOUND ?? 0)} · Enviadas: ${formatNumber(direction.OUTBOUND ?? 0)}`,
    ),
    stat("Conversas", formatNumber(report.threads)),
    stat("Contatos", formatNumber(report.contacts)),
    stat("Mídias", `${formatNumber(report.mediaReceived)} de ${formatNumber(report.mediaPlaceholders)} recebidas`),
    stat(
      "Blocos faltando",
      report.chunkGaps.length ? report.chunkGaps.map(([p, o]) => `fase ${p} bloco ${o}`).join(", ") : "nenhum",
    ),
    stat("Duração", formatDuration(report.durationSeconds)),
  );
}

function syncRequests(connection) {
  const requests = connection.historySync.requests;
  if (!requests.length) {
    return h(
      "p",
      { class: "muted" },
      connection.verified
        ? "Nenhum pedido enviado à Meta ainda."
        : "Nenhum pedido enviado à Meta. Conexões criadas sem token de acesso não pedem a sincronização sozinhas.",
    );
  }
  return h(
    "ul",
    { class: "requests" },
    requests.map((request) =>
      h(
        "li",
        { class: "request", "data-sync-type": request.syncType },
        h(
          "p",
          { class: "request__head" },
          h("strong", {}, SYNC_TYPE_LABELS[request.syncType] ?? request.syncType),
          h(
            "span",
            { class: ["outcome", `outcome--${request.outcome}`] },
            OUTCOME_LABELS[request.outcome] ?? request.outcome,
          ),
        ),
        h(
          "dl",
          { class: "request__facts" },
          stat("Pedido em", formatDateTime(request.requestedAt)),
          stat("ID da solicitação", request.requestId ?? "—"),
          request.error
            ? stat("Erro", graphErrorText(request.error.code), technicalDetails(request.error, request.error.message))
            : null,
        ),
      ),
    ),
  );
}

/** One entry of the connection's webhook and audit log, its error in full. */
/** What went wrong with a change, in Portuguese and what happens next (the server's words stay folded). */
function logErrorText(entry) {
  const error = entry.error ?? "";
  if (entry.kind === "audit") {
    if (entry.event === "sync_declined") return "O negócio não autorizou compartilhar o histórico no WhatsApp Business App.";
    return "A Meta informou um erro (o texto original está em “Detalhes técnicos”).";
  }
  if (entry.status === "failed" || error.startsWith("kept failing")) {
    return "Falhou em todas as tentativas. Use “Reprocessar blocos com falha” para processar de novo a partir do arquivo.";
  }
  if (error.startsWith("last attempt failed")) return "A última tentativa falhou; uma nova tentativa é feita sozinha.";
  if (error.startsWith("invalid change")) {
    return entry.status === "processed"
      ? "Parte dos dados da Meta estava fora do formato esperado e foi ignorada; o resto foi importado."
      : "Os dados da Meta estavam fora do formato esperado: a alteração foi registrada e não será tentada de novo.";
  }
  if (entry.status === "rejected") return "A alteração foi recusada e não será tentada de novo.";
  return "Erro ao processar esta alteração.";
}

function logEntry(entry) {
  const failed = ["failed", "rejected"].includes(entry.status) || Boolean(entry.error && entry.kind === "webhook");
  return h(
    "li",
    { class: ["log", failed && "log--failed"], "data-kind": entry.kind, "data-id": entry.id },
    h(
      "p",
      { class: "log__head" },
      h("time", { datetime: entry.at }, formatDateTime(entry.at)),
      h("span", { class: "tag" }, LOG_KIND_LABELS[entry.kind] ?? entry.kind),
      entry.field ? h("span", { class: "tag" }, LOG_FIELD_LABELS[entry.field] ?? entry.field) : null,
      entry.status ? h("span", { class: ["tag", failed && "tag--danger"] }, logStatusLabel(entry)) : null,
    ),
    h("p", { class: "log__event" }, logEventLabel(entry)),
    entry.error
      ? h(
          "div",
          { class: "log__error" },
          h("p", {}, h("strong", {}, "Erro: "), logErrorText(entry)),
          technicalDetails({ code: entry.status }, entry.error),
        )
      : null,
    entry.archiveKey ? h("p", { class: "log__archive" }, `Arquivo: ${entry.archiveKey}`) : null,
  );
}

/** `button` as it is, or disabled with `reason` under it (and read with it). */
function unavailable(button, reason) {
  if (!reason) return button;
  const id = uid("motivo");
  button.disabled = true;
  button.setAttribute("aria-describedby", id);
  return h("div", { class: "action action--unavailable" }, button, h("p", { id, class: "action__why" }, reason));
}

/** A button whose click runs `action` once at a time, its outcome said in `feedback`. */
function actionButton(label, refused, feedback, action) {
  const button = h("button", { type: "button", class: "btn" }, label);
  let busy = false;
  button.addEventListener("click", async () => {
    if (busy) return;
    busy = true;
    button.setAttribute("aria-busy", "true");
    feedback.info(`${label}…`);
    try {
      await action();
    } catch (error) {
      if (!isAbort(error)) feedback.error(error, refused);
    } finally {
      busy = false;
      button.removeAttribute("aria-busy");
    }
  });
  return button;
}

/** `#/connections/<id>`: the card, the actions, the chunk timeline, the report, the requests, the logs. */
export function renderDetails(ctx, id) {
  const base = `/connections/${segment(id)}`;
  const crumb = h("span", { "aria-current": "page" }, "Instância");
  const title = h("h1", { tabindex: "-1" }, "Detalhes da instância");
  const stamp = h("p", { class: "refresh-state" }, "Carregando…");
  const feedback = new Feedback();
  const refreshButton = h("button", { type: "button", class: "btn" }, "Atualizar");
  const cardSlot = h("div", { class: "details__card", "data-key": id });
  const timelineSlot = h("div", {});
  const reportSlot = h("div", {});
  const requestsSlot = h("div", {});
  const actionsFeedback = new Feedback();
  const actionsSlot = h("div", { class: "actions" });
  const logs = new PagedList({
    ctx,
    url: (cursor) => withQuery(`${base}/logs`, { limit: LOG_PAGE, cursor }),
    items: (page) => page.logs,
    item: logEntry,
    tag: "ol",
    className: "logs",
    label: "Registros, os mais recentes primeiro",
    emptyText: "Nenhum registro ainda.",
    failure: "Não foi possível carregar os registros.",
  });
  const body = h(
    "div",
    { class: "details", hidden: true },
    h("div", { class: "details__top" }, cardSlot, section("Ações", actionsSlot, actionsFeedback.element)),
    section("Linha do tempo dos blocos", timelineSlot),
    h(
      "div",
      { class: "details__pair" },
      section("Relatório de conclusão", reportSlot),
      section("Solicitações à Meta", requestsSlot),
    ),
    section("Registros", logs.element),
  );
  ctx.main.append(
    h("nav", { class: "crumbs", "aria-label": "Trilha" }, h("a", { href: "#/" }, "Instâncias"), " › ", crumb),
    h(
      "div",
      { class: "page-head" },
      title,
      h(
        "div",
        { class: "toolbar" },
        h("a", { class: "btn", href: `#/connections/${encodeURIComponent(id)}/leads` }, "Leads e tickets"),
        refreshButton,
      ),
    ),
    stamp,
    feedback.element,
    body,
  );

  let actionsFor = null;

  // the card's ETag moves with anything of the number's inbox: unchanged, nothing else is read
  let etag = null;
  const auto = new AutoRefresh({
    fetch: async ({ manual }) => {
      // "Atualizar" and the refresh after an action read everything (a log entry the consumer never
      // touched, such as an unmatched change, moves no ETag)
      const card = await ctx.api.request("GET", base, { etag: manual ? null : etag, signal: ctx.signal });
      if (card.status === 304) return UNCHANGED;
      const detail = await ctx.api.get(`${base}/history-sync`, { signal: ctx.signal });
      etag = card.etag ?? null;
      // the tag is part of what changed: a new log entry may come with the same card and chunks
      return { connection: card.data.connection, chunks: detail.chunks, report: detail.report, etag };
    },
    render: ({ connection, chunks, report }) => {
      feedback.clear();
      const name = connectionName(connection);
      title.textContent = name;
      crumb.textContent = name;
      ctx.setTitle(`${name} · Detalhes`);
      keepFocus(body, () => cardSlot.replaceChildren(instanceCard(connection, { details: false, title: "Situação" })));
      timelineSlot.replaceChildren(chunkTimeline(chunks, report));
      reportSlot.replaceChildren(completionReport(report));
      requestsSlot.replaceChildren(syncRequests(connection));
      // drawn again when what they can do changes (a request made, a token added, a disconnection)
      const can = JSON.stringify([connection.mode, connection.historySync.requestRefusal, connection.hasAccessToken]);
      if (actionsFor !== can) {
        actionsFor = can;
        keepFocus(actionsSlot, () => actionsSlot.replaceChildren(...actions(connection)));
      }
      body.hidden = false;
      if (logs.following) logs.load(true);
    },
    delayFor: ({ connection }) => syncDelay([connection]),
    onState: (state) => {
      stamp.textContent = describeRefresh(state);
    },
    onError: (error) => {
      stamp.textContent = "";
      feedback.error(
        error,
        error.status === 404 ? "Instância não encontrada." : "Não foi possível carregar os detalhes da instância.",
      );
    },
  });

  const refreshAll = () => {
    logs.following = true;
    auto.refresh();
  };

  function actions(connection) {
    const request =
      connection.mode === "coexistence"
        ? actionButton("Solicitar sincronização", "Sincronização não solicitada.", actionsFeedback, async () => {
            const { data } = await ctx.api.request("POST", `${base}/history-sync/request`, { signal: ctx.signal });
            const asked = data.requests
              .map((r) => {
                const kind = SYNC_TYPE_LABELS[r.syncType] ?? r.syncType;
                return r.outcome ? `${kind} — ${OUTCOME_LABELS[r.outcome] ?? r.outcome}` : kind;
              })
              .join("; ");
            actionsFeedback.success(`Pedido enviado à Meta: ${asked}.`);
            refreshAll();
          })
        : null;
    const retry = actionButton("Reprocessar blocos com falha", "Blocos não reprocessados.", actionsFeedback, async () => {
      const { data } = await ctx.api.request("POST", `${base}/history-sync/retry`, { signal: ctx.signal });
      actionsFeedback.success(
        data.retried === 0
          ? "Nenhuma alteração com falha para reenviar."
          : `${plural(data.retried, "alteração reenviada", "alterações reenviadas")}. Os blocos são processados de novo em instantes.`,
      );
      refreshAll();
    });
    const verify = actionButton("Verificar número", "Número não verificado.", actionsFeedback, async () => {
      const { data } = await ctx.api.request("POST", `${base}/refresh`, { signal: ctx.signal });
      actionsFeedback.success(
        data.connection.connectionStatus === "active"
          ? "Número ativo: continua no WhatsApp Business App e na Cloud API."
          : "A Meta informou que o número não está mais conectado. O histórico e os contadores foram mantidos.",
      );
      refreshAll();
    });
    // an action that can only fail is not offered: disabled, with the reason under it
    const refusal = connection.historySync.requestRefusal;
    return [
      h(
        "div",
        { class: "actions__buttons" },
        request ? unavailable(request, refusal && (errorText(refusal) ?? "A Meta não aceitaria o pedido agora.")) : null,
        retry,
        unavailable(verify, connection.hasAccessToken ? null : errorText("no_access_token")),
      ),
      h(
        "ul",
        { class: "actions__help" },
        request
          ? h("li", {}, "Solicitar sincronização: pede à Meta os contatos e o histórico (uma vez cada, até 24 h depois da conexão).")
          : h("li", {}, "Números Cloud API não têm histórico do WhatsApp Business App para sincronizar."),
        h("li", {}, "Reprocessar blocos com falha: reenvia do arquivo os blocos que falharam."),
        h("li", {}, "Verificar número: pergunta à Meta se o número continua conectado."),
      ),
    ];
  }

  refreshButton.addEventListener("click", refreshAll);
  auto.refresh();
  return () => auto.stop();
}
