// Portuguese words for the API's codes (the API already sends statusLabel and badge in Portuguese).

export const MODE_LABELS = { coexistence: "Coexistência", cloud_api: "Cloud API" };

export const LEAD_SOURCE_LABELS = {
  history_sync: "Histórico",
  state_sync: "Contatos do App",
  live_message: "Mensagem ao vivo",
  direct_creation: "Criado manualmente",
};

export const MESSAGE_SOURCE_LABELS = {
  history: "histórico",
  live: "ao vivo",
  app_echo: "enviada pelo App",
  agent: "atendente",
};

export const MESSAGE_STATUS_LABELS = {
  pending: "pendente",
  accepted: "aceita pela Meta",
  unknown: "situação incerta",
  sent: "enviada",
  delivered: "entregue",
  read: "lida",
  played: "reproduzida",
  failed: "falhou",
};

/** Who sent a message or a reaction, by its direction. */
export const SIDE_LABELS = { INBOUND: "Cliente", OUTBOUND: "Empresa" };

export const MEDIA_LABELS = {
  image: "Imagem",
  video: "Vídeo",
  audio: "Áudio",
  document: "Documento",
  sticker: "Figurinha",
  media_placeholder: "Mídia",
};

/** The types without a body: what each one is, before its summary. */
export const CONTENT_LABELS = {
  location: "Localização",
  contacts: "Contato compartilhado",
  button_reply: "Resposta de botão",
  list_reply: "Resposta de lista",
  button: "Botão",
  order: "Pedido",
  system: "Aviso do WhatsApp",
  unsupported: "Mensagem não suportada pelo WhatsApp",
};

export const TICKET_ORIGIN_LABELS = {
  history_lead: "Lead do histórico",
  new_contact: "Novo contato",
  existing: "Contato existente",
};

export const TICKET_STATUS_LABELS = { open: "Aberto", closed: "Fechado" };

export const SYNC_TYPE_LABELS = { smb_app_state_sync: "Contatos", history: "Histórico" };

export const OUTCOME_LABELS = {
  accepted: "Aceita",
  failed: "Falhou",
  unknown: "Sem resposta",
  pending: "Aguardando resposta",
};

export const ALERT_LABELS = {
  no_history_received: "Nenhum histórico recebido",
  stalled: "Sincronização parada",
};

export const ALERT_HINTS = {
  no_history_received: "A Meta ainda não enviou o histórico. Confirme a aprovação no WhatsApp Business App.",
  stalled: "Nenhum bloco novo de histórico chegou.",
};

export const PHASE_LABELS = { 0: "último dia", 1: "dias 1 a 90", 2: "dias 90 a 180" };

export const CHUNK_STATUS_LABELS = {
  processed: "processado",
  failed: "falhou",
  pending: "pendente",
  missing: "faltando",
};

export const LOG_KIND_LABELS = { webhook: "Webhook", audit: "Auditoria" };

export const LOG_FIELD_LABELS = {
  history: "Histórico",
  smb_app_state_sync: "Contatos do App",
  smb_message_echoes: "Mensagens do App",
  messages: "Mensagens ao vivo",
  account_update: "Conta",
};

const LOG_STATUS_LABELS = {
  received: "recebido",
  routed: "encaminhado",
  processed: "processado",
  failed: "falhou",
  rejected: "rejeitado",
  ignored: "ignorado",
  unmatched: "sem conexão",
};

const AUDIT_EVENT_LABELS = {
  sync_started: "Sincronização iniciada",
  sync_completed: "Sincronização concluída",
  sync_declined: "Histórico recusado pelo negócio",
  sync_failed: "Sincronização falhou",
  sync_requested: "Sincronização solicitada à Meta",
  sync_request_failed: "Solicitação à Meta falhou",
  sync_retry: "Blocos com falha reenviados",
  alert_raised: "Alerta",
  alert_cleared: "Alerta resolvido",
  connection_reconnected: "Número reconectado",
  connection_active: "Número ativo",
  connection_disconnected: "Número desconectado",
  messages_error: "Erro informado pela Meta",
};

const WEBHOOK_EVENT_LABELS = {
  history_chunk: "Bloco de histórico",
  history_error: "Erro no histórico",
  history_media: "Mídia do histórico",
  history: "Histórico",
  state_sync: "Contatos do App",
  echo: "Mensagem enviada pelo App",
  messages: "Mensagem ao vivo",
  statuses: "Status de entrega",
  errors: "Erro informado pela Meta",
  account_update: "Atualização da conta",
};

/** Meta's account_update events, as the business reads them. */
const ACCOUNT_EVENT_LABELS = {
  PARTNER_REMOVED: "número desconectado da plataforma",
  PARTNER_APP_UNINSTALLED: "app desinstalado da conta",
  PARTNER_ADDED: "conta compartilhada com a WhaTrack",
  ACCOUNT_OFFBOARDED: "número saiu da Cloud API (troca de aparelho ou novo registro)",
  ACCOUNT_RECONNECTED: "número reconectado à Cloud API",
  ACCOUNT_VIOLATION: "violação de política informada pela Meta",
  ACCOUNT_RESTRICTION: "conta restrita pela Meta",
  ACCOUNT_DELETED: "conta apagada",
  DISABLED_UPDATE: "número desativado pela Meta",
};

function accountEvent(event) {
  return `Atualização da conta: ${ACCOUNT_EVENT_LABELS[event] ?? event}`;
}

/** "history_chunk phase=0 chunk=3 progress=40" → "Bloco de histórico · fase 0 · bloco 3 · 40%". */
export function logEventLabel(entry) {
  const event = entry.event ?? "";
  const chunk = /^history_chunk phase=(\S+) chunk=(\S+) progress=(\S+)$/.exec(event);
  if (chunk) return `Bloco de histórico · fase ${chunk[1]} · bloco ${chunk[2]} · ${chunk[3]}%`;
  if (entry.kind === "audit") {
    if (event.startsWith("account_update ")) return accountEvent(event.slice(15));
    return AUDIT_EVENT_LABELS[event] ?? event;
  }
  if (entry.field === "account_update") return accountEvent(event);
  // "messages+statuses": one delivery may carry several kinds
  return event
    .split("+")
    .map((part) => WEBHOOK_EVENT_LABELS[part] ?? part)
    .join(" + ");
}

export function logStatusLabel(entry) {
  const status = entry.status ?? "";
  if (entry.kind !== "audit") return LOG_STATUS_LABELS[status] ?? status;
  const requested = /^(\S+) request_id=(\S+)$/.exec(status);
  if (requested) return `${SYNC_TYPE_LABELS[requested[1]] ?? requested[1]} · ${requested[2]}`;
  const resent = /^(\d+) change\(s\) re-sent$/.exec(status);
  if (resent) return `${resent[1]} ${resent[1] === "1" ? "alteração reenviada" : "alterações reenviadas"}`;
  return ALERT_LABELS[status] ?? OUTCOME_LABELS[status] ?? status;
}

const ERROR_TEXT = {
  unauthorized: "Chave de API inválida ou revogada. Confira a chave recebida ao criar a organização.",
  not_found: "Não encontrado: o item não existe ou pertence a outra organização.",
  invalid_input: "Dados inválidos.",
  invalid_cursor: "A paginação não vale mais. Atualize a página.",
  phone_number_already_connected: "Este número já está conectado (nesta ou em outra organização).",
  number_not_owned:
    "A Meta informou que este número não pertence a essa conta do WhatsApp Business (WABA) com este token.",
  waba_mismatch: "Este número foi conectado antes com outra conta do WhatsApp Business (WABA).",
  code_exchange_failed: "A Meta não aceitou o código do cadastro (ele vale só 30 segundos). Tente conectar de novo.",
  phone_number_ambiguous:
    "A conta do WhatsApp Business tem vários números e a Meta não informou qual foi escolhido. Tente de novo escolhendo um número.",
  already_requested:
    "A sincronização já foi solicitada para este número. A Meta aceita um único pedido de contatos e um de histórico.",
  sync_request_unanswered:
    "A Meta não respondeu a um pedido anterior. Para não pedir duas vezes, ele não será reenviado: aguarde o histórico chegar.",
  sync_request_in_progress: "Um pedido ainda aguarda a resposta da Meta. Tente de novo em alguns minutos.",
  no_access_token:
    "Esta conexão não tem token de acesso da Meta. Conecte o número pelo cadastro da Meta (Embedded Signup) ou com um token.",
  not_coexistence: "Só números em Coexistência (WhatsApp Business App) têm histórico para sincronizar.",
  connection_disconnected: "O número está desconectado. Conecte-o de novo em “Nova Instância” antes de pedir a sincronização.",
  sync_window_expired: "O prazo para pedir a sincronização (24 horas depois da conexão) terminou.",
  graph_error: "A Meta recusou ou não respondeu. Você pode tentar de novo.",
  payload_too_large: "Os dados enviados são grandes demais.",
  method_not_allowed: "Operação não permitida.",
  unavailable: "Serviço temporariamente indisponível. Tente de novo.",
  internal_error: "Erro interno do servidor. Tente de novo.",
  network_error: "Sem conexão com o servidor. Verifique a rede e tente de novo.",
  ticket_closed: "Este ticket está fechado: a resposta não foi enviada.",
  customer_service_window_closed:
    "Fora da janela de 24 h da Meta: o cliente não escreveu ao vivo nas últimas 24 horas. Envie um modelo aprovado.",
  unknown_reply_target: "A mensagem citada não é desta conversa.",
  idempotency_key_reused: "Esta tentativa de envio já foi usada para outra mensagem. Envie de novo.",
  conversation_has_open_ticket: "Esta conversa já tem um ticket aberto.",
  no_recipient: "Este contato não tem número de WhatsApp para receber mensagens.",
  conflict: "O item mudou enquanto você agia. Atualize a página e tente de novo.",
  rule_violation: "Recusado por uma regra do serviço.",
  forbidden: "Esta chave não pode fazer esta operação.",
  misconfigured: "O serviço está com um problema de configuração; a equipe foi avisada. Tente mais tarde.",
  error: "Erro ao concluir a operação. Tente de novo.",
  invalid_change: "Os dados recebidos da Meta estavam fora do formato esperado.",
  archived_change_missing: "A alteração não foi encontrada no arquivo do webhook; a equipe foi avisada.",
  delivery_failed: "A Meta informou que a mensagem não foi entregue.",
};

/** Why Meta refused a request of ours (a sync request, a check), by its Graph error code. */
const GRAPH_ERROR_TEXT = {
  190: "O token de acesso expirou ou foi revogado: conecte o número de novo.",
  10: "O token não tem permissão para este número: conecte o número de novo com as permissões do cadastro.",
  200: "O token não tem permissão para este número: conecte o número de novo com as permissões do cadastro.",
  100: "A Meta recusou um parâmetro do pedido.",
  4: "Limite de pedidos da Meta atingido. Tente de novo em alguns minutos.",
  80007: "Limite de pedidos da Meta atingido. Tente de novo em alguns minutos.",
  1: "A Meta está com instabilidade. Tente de novo em alguns minutos.",
  2: "A Meta está com instabilidade. Tente de novo em alguns minutos.",
  131000: "A Meta não conseguiu atender o pedido. Tente de novo em alguns minutos.",
  368: "A conta está temporariamente restrita pela Meta por violação de política.",
};

/** A refusal of Meta's to one of our requests, in Portuguese with what to do. */
export function graphErrorText(code) {
  return GRAPH_ERROR_TEXT[Number(code)] ?? "A Meta recusou o pedido. Veja os detalhes técnicos e tente de novo.";
}

/** Why Meta did not deliver a reply (its error code), in Portuguese, with what to do next. */
const DELIVERY_ERROR_TEXT = {
  131047: "Mais de 24 h desde a última mensagem do cliente: a Meta só entrega modelos aprovados. Envie um modelo.",
  131026: "A Meta não conseguiu entregar: o número pode não ter WhatsApp ou usar uma versão antiga.",
  131049: "A Meta reteve a mensagem para preservar o engajamento do cliente. Tente mais tarde ou outro modelo.",
  131050: "O cliente pediu para não receber mensagens de marketing desta empresa.",
  131021: "O destinatário é o próprio número da empresa.",
  131051: "Tipo de mensagem não suportado pela Meta.",
  131008: "Faltou um parâmetro obrigatório do modelo.",
  131009: "Um parâmetro do modelo tem um valor inválido.",
  131031: "A conta do WhatsApp Business está bloqueada. Verifique o Gerenciador do WhatsApp.",
  131042: "Há um problema de pagamento na conta do WhatsApp Business.",
  132000: "O número de parâmetros não corresponde ao modelo.",
  132001: "O modelo não existe neste idioma ou ainda não foi aprovado.",
  132005: "O texto do modelo com os parâmetros ficou longo demais.",
  132007: "O conteúdo viola a política de modelos da Meta.",
  132012: "Um parâmetro do modelo está em formato inválido.",
  132015: "O modelo está pausado por baixa qualidade.",
  132016: "O modelo foi desativado pela Meta.",
  130472: "A Meta não entregou: o número do cliente está num experimento da Meta.",
  130403: "Este número não pode enviar para o destinatário.",
  368: "A conta está temporariamente restrita pela Meta por violação de política.",
  190: "O token de acesso expirou ou foi revogado: reconecte o número.",
  100: "A Meta recusou um parâmetro da mensagem.",
  10: "O token não tem permissão para enviar por este número: reconecte o número.",
  130429: "Limite de envio da Meta atingido depois de várias tentativas. Envie de novo.",
  131056: "Mensagens demais para este cliente em pouco tempo. Envie de novo em instantes.",
};

/** A failed reply's reason in Portuguese (Meta's own words stay available to the caller). */
export function deliveryFailure(error) {
  const code = Number(error?.code);
  return (
    DELIVERY_ERROR_TEXT[code] ??
    (error?.code === "delivery_failed"
      ? "A Meta informou que a mensagem não foi entregue."
      : "A Meta não entregou a mensagem. Você pode enviar de novo.")
  );
}

const STATUS_TEXT = {
  400: "Dados inválidos.",
  401: ERROR_TEXT.unauthorized,
  404: ERROR_TEXT.not_found,
  409: "Conflito com o estado atual.",
  422: "Recusado por uma regra do serviço.",
};

/** Our error code in Portuguese (what happened and what to do), or null when it has no text of its own. */
export function errorText(code) {
  return ERROR_TEXT[code] ?? null;
}

/** {summary, detail}: the Portuguese explanation, and the server's own words when they add something. */
export function explainError(error) {
  const summary =
    ERROR_TEXT[error.code] ??
    STATUS_TEXT[error.status] ??
    (error.status >= 500 ? "Erro no servidor. Tente de novo." : "Não foi possível concluir a operação.");
  const detail = error.code === "network_error" || !error.message ? null : error.message;
  return { summary, detail };
}
