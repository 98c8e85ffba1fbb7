import { isAbort } from "../api.js";
import { Feedback } from "../components/feedback.js";
import { h, uid } from "../dom.js";
import { SignupProblem, embeddedSignup, facebookSdk } from "../signup.js";

// The rules of POST /connections (docs/openapi.json), checked before asking the server.
const DIGITS = /^\d{3,32}$/;
const DISPLAY_NUMBER = /^\+?[\d\s().-]{3,32}$/;
const TOKEN = /^[\x21-\x7e]{1,4096}$/;

const MODES = [
  {
    value: "coexistence",
    label: "Conectar número existente (Coexistência)",
    hint: "O número continua no WhatsApp Business App; as conversas do App e da Cloud API ficam juntas no WhaTrack.",
  },
  {
    value: "cloud_api",
    label: "Criar novo número (Cloud API)",
    hint: "Um número novo, só na Cloud API. Não há histórico do App para importar.",
  },
];

function field({ name, label, hint, required = false, type = "text", inputmode, check }) {
  const id = uid(`campo-${name}`);
  const hintId = `${id}-dica`;
  const errorId = `${id}-erro`;
  const input = h("input", {
    id,
    name,
    type,
    inputmode,
    required,
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": `${hintId} ${errorId}`,
  });
  const error = h("p", { id: errorId, class: "field-error", hidden: true });
  const wrapper = h(
    "div",
    { class: "field" },
    h("label", { for: id }, label, required ? h("span", { class: "required" }, " (obrigatório)") : h("span", { class: "optional" }, " (opcional)")),
    input,
    h("p", { id: hintId, class: "field-hint" }, hint),
    error,
  );
  return {
    name,
    input,
    wrapper,
    check,
    value: () => input.value.trim(),
    setError(text) {
      error.textContent = text ?? "";
      error.hidden = !text;
      if (text) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    },
  };
}

function manualFields() {
  return [
    field({
      name: "phoneNumberId",
      label: "ID do número de telefone",
      hint: "O “Phone number ID” da Meta (WhatsApp Manager › Números de telefone), só dígitos.",
      required: true,
      inputmode: "numeric",
      check: (v) =>
        !v ? "Informe o ID do número de telefone." : DIGITS.test(v) ? null : "O ID do número tem só dígitos (de 3 a 32).",
    }),
    field({
      name: "wabaId",
      label: "ID da conta do WhatsApp Business (WABA)",
      hint: "O “WhatsApp Business Account ID” da Meta, só dígitos.",
      required: true,
      inputmode: "numeric",
      check: (v) =>
        !v ? "Informe o ID da conta do WhatsApp Business (WABA)." : DIGITS.test(v) ? null : "O ID da WABA tem só dígitos (de 3 a 32).",
    }),
    field({
      name: "displayPhoneNumber",
      label: "Número de telefone",
      hint: "Como aparece para os clientes, com DDI. Ex.: +55 11 95555-0100",
      type: "tel",
      inputmode: "tel",
      check: (v) =>
        !v || DISPLAY_NUMBER.test(v) ? null : "Use só dígitos, espaços, parênteses, hífen e um + no início (3 a 32 caracteres).",
    }),
    field({
      name: "displayName",
      label: "Nome de exibição",
      hint: "Como a instância aparece no painel. Ex.: Loja Centro",
      check: (v) => (v.length > 200 ? "Use no máximo 200 caracteres." : null),
    }),
    field({
      name: "accessToken",
      label: "Token de acesso da Meta",
      hint: "Com o token, o número é verificado na Meta e a sincronização é pedida automaticamente. Ele não é mostrado de novo.",
      type: "password",
      check: (v) => (!v || TOKEN.test(v) ? null : "O token não pode ter espaços nem acentos."),
    }),
  ];
}

/** The server names a rejected field as "<field>: <reason>"; the field shows its own rule instead. */
function fieldsNamedBy(error, fields) {
  if (error.code !== "invalid_input") return [];
  const named = new Set(error.message.split("; ").map((part) => part.split(":")[0].trim()));
  return fields.filter((f) => named.has(f.name));
}

/** `#/new`: choose the kind of number, then Meta's Embedded Signup or (no configuration id) the manual form. */
export function renderNewInstance(ctx) {
  const embedded = Boolean(ctx.config.esConfigId);
  if (embedded) facebookSdk(ctx.config).catch(() => {}); // early, so the click opens Meta's popup at once
  const feedback = new Feedback();

  const modeErrorId = uid("modo-erro");
  const modeError = h("p", { id: modeErrorId, class: "field-error", hidden: true });
  const radios = MODES.map((mode) => {
    const id = uid("modo");
    const input = h("input", { type: "radio", name: "mode", value: mode.value, id, "aria-describedby": `${id}-dica` });
    return {
      input,
      element: h(
        "div",
        { class: "option" },
        input,
        h(
          "div",
          { class: "option__text" },
          h("label", { for: id, class: "option__label" }, mode.label),
          h("p", { id: `${id}-dica`, class: "option__hint" }, mode.hint),
        ),
      ),
    };
  });
  const modeGroup = h(
    "fieldset",
    { class: "choice", "aria-describedby": modeErrorId },
    h("legend", {}, "Como você quer conectar?"),
    radios.map((r) => r.element),
    modeError,
  );

  const syncId = uid("sincronizar");
  const syncHistory = h("input", { type: "checkbox", id: syncId, name: "syncHistory", checked: true, "aria-describedby": `${syncId}-dica` });
  const syncOption = h(
    "div",
    { class: "sync-option", hidden: true },
    h(
      "div",
      { class: "option" },
      syncHistory,
      h(
        "div",
        { class: "option__text" },
        h(
          "label",
          { for: syncId, class: "option__label" },
          "Sincronizar histórico de mensagens (requer aprovação no WhatsApp Business App)",
        ),
        h(
          "p",
          { id: `${syncId}-dica`, class: "option__hint" },
          "Depois da aprovação no App, a Meta envia até 180 dias de conversas e os contatos.",
        ),
      ),
    ),
  );

  const selectedMode = () => radios.find((r) => r.input.checked)?.input.value ?? null;
  for (const { input } of radios) {
    input.addEventListener("change", () => {
      syncOption.hidden = selectedMode() !== "coexistence";
      modeError.hidden = true;
    });
  }

  const fields = embedded ? [] : manualFields();
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, embedded ? "Continuar com a Meta" : "Conectar número");
  const form = h(
    "form",
    { class: "form", novalidate: true, "aria-labelledby": "nova-instancia" },
    modeGroup,
    syncOption,
    embedded
      ? h(
          "p",
          { class: "form__note" },
          "Na próxima etapa, a janela da Meta pede o login no Facebook, a conta do WhatsApp Business e o número. Ao terminar, a instância aparece na lista.",
        )
      : h(
          "fieldset",
          { class: "manual" },
          h("legend", {}, "Dados do número"),
          h(
            "p",
            { class: "form__note" },
            "O cadastro incorporado da Meta (Embedded Signup) não está configurado neste ambiente: informe os dados do número.",
          ),
          fields.map((f) => f.wrapper),
        ),
    feedback.element,
    h("div", { class: "form__actions" }, submit, h("a", { class: "btn btn-quiet", href: "#/" }, "Cancelar")),
  );

  ctx.main.append(
    h("nav", { class: "crumbs", "aria-label": "Trilha" }, h("a", { href: "#/" }, "Instâncias"), " › ", h("span", { "aria-current": "page" }, "Nova Instância")),
    h("div", { class: "page-head" }, h("h1", { id: "nova-instancia", tabindex: "-1" }, "Nova Instância")),
    form,
  );

  // a field flagged by the last submit is checked again as it is corrected
  for (const f of fields) {
    f.input.addEventListener("input", () => {
      if (f.input.getAttribute("aria-invalid") !== "true") return;
      f.setError(f.check(f.value()));
      if (!form.querySelector('[aria-invalid="true"]')) feedback.clear();
    });
  }

  function validate() {
    let first = null;
    const mode = selectedMode();
    modeError.textContent = mode ? "" : "Escolha como conectar o número.";
    modeError.hidden = Boolean(mode);
    if (!mode) first = radios[0].input;
    for (const f of fields) {
      const problem = f.check(f.value());
      f.setError(problem);
      if (problem && !first) first = f.input;
    }
    return first;
  }

  function connected(status, data) {
    ctx.created({ connection: data.connection, reconnected: status === 200 });
    ctx.navigate("#/");
  }

  async function createManually(mode) {
    const body = { mode, syncHistory: mode === "coexistence" && syncHistory.checked };
    for (const f of fields) if (f.value()) body[f.name] = f.value();
    try {
      const { status, data } = await ctx.api.request("POST", "/connections", { body, signal: ctx.signal });
      connected(status, data);
    } catch (error) {
      if (isAbort(error)) return;
      const [phoneNumberId, wabaId] = fields;
      const named = fieldsNamedBy(error, fields);
      for (const f of named) f.setError(f.check(f.value()) ?? "Valor recusado pelo servidor.");
      if (error.code === "phone_number_already_connected") {
        phoneNumberId.setError("Este número já está conectado.");
        named.push(phoneNumberId);
      }
      if (error.code === "waba_mismatch") {
        wabaId.setError("O número foi conectado antes com outra WABA.");
        named.push(wabaId);
      }
      feedback.error(error, "A instância não foi criada.");
      named[0]?.input.focus();
    }
  }

  async function createWithMeta(mode) {
    let session;
    try {
      session = await embeddedSignup(await facebookSdk(ctx.config), ctx.config, mode);
    } catch (problem) {
      if (problem instanceof SignupProblem) feedback.fail(problem.title, problem.message);
      else
        feedback.fail(
          "Não foi possível abrir o cadastro da Meta.",
          "O SDK do Facebook não carregou. Verifique a conexão ou bloqueadores de conteúdo e tente de novo.",
        );
      return;
    }
    feedback.info("Cadastro concluído na Meta. Conectando o número…");
    const body = { code: session.code, wabaId: session.wabaId, mode, syncHistory: mode === "coexistence" && syncHistory.checked };
    if (session.phoneNumberId) body.phoneNumberId = session.phoneNumberId;
    try {
      const { status, data } = await ctx.api.request("POST", "/connections/embedded-signup", { body, signal: ctx.signal });
      connected(status, data);
    } catch (error) {
      if (!isAbort(error)) feedback.error(error, "A instância não foi criada.");
    }
  }

  let busy = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    const invalid = validate();
    if (invalid) {
      feedback.fail("Corrija os campos destacados.");
      invalid.focus();
      return;
    }
    busy = true;
    submit.setAttribute("aria-busy", "true");
    feedback.info(embedded ? "Abrindo o cadastro da Meta…" : "Conectando o número…");
    try {
      await (embedded ? createWithMeta(selectedMode()) : createManually(selectedMode()));
    } finally {
      busy = false;
      submit.removeAttribute("aria-busy");
    }
  });
}
