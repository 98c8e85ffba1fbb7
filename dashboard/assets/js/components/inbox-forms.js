// "Novo lead" and "Iniciar conversa" (CONTRACT §7a): a lead created by hand, and a ticket opened by
// an agent, whose first message is chosen in the ticket's composer (a template while Meta's window
// is closed).
import { isAbort } from "../api.js";
import { h, uid } from "../dom.js";
import { connectionName } from "./card.js";
import { Feedback } from "./feedback.js";

function field(label, input, hint) {
  const hintId = hint ? uid("dica") : null;
  if (hintId) input.setAttribute("aria-describedby", hintId);
  return h(
    "div",
    { class: "field" },
    h("label", { for: input.id }, label),
    input,
    hint ? h("p", { id: hintId, class: "field-hint" }, hint) : null,
  );
}

async function busy(button, work) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

/** The "Novo lead" form: number and name → the lead (`onDone(lead, created)`: false when it existed). */
export function newLeadForm(ctx, { onDone, onCancel }) {
  const phone = h("input", { id: uid("telefone"), type: "tel", required: true, autocomplete: "tel", maxlength: "32" });
  const name = h("input", { id: uid("nome"), type: "text", maxlength: "200", autocomplete: "name" });
  const feedback = new Feedback();
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Criar lead");
  const form = h(
    "form",
    { class: "form panel inbox-form", "aria-label": "Novo lead", novalidate: true },
    h("h2", { class: "panel__title" }, "Novo lead"),
    field("Número de WhatsApp", phone, "Com DDI e DDD, por exemplo +55 11 96666-0001."),
    field("Nome (opcional)", name),
    feedback.element,
    h(
      "div",
      { class: "form__actions" },
      submit,
      h("button", { type: "button", class: "btn btn-quiet", on: { click: onCancel } }, "Cancelar"),
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (submit.disabled) return;
    if (!phone.value.trim()) {
      phone.setAttribute("aria-invalid", "true");
      feedback.fail("Informe o número de WhatsApp do contato.");
      phone.focus();
      return;
    }
    phone.removeAttribute("aria-invalid");
    const body = { phoneNumber: phone.value.trim(), ...(name.value.trim() ? { pushName: name.value.trim() } : {}) };
    await busy(submit, async () => {
      try {
        const { status, data } = await ctx.api.request("POST", "/leads", { body, signal: ctx.signal });
        onDone(data.lead, status === 201);
      } catch (error) {
        if (isAbort(error)) return;
        if (error.status === 400) phone.setAttribute("aria-invalid", "true");
        feedback.error(error, error.status === 400 ? "Este número não é válido." : "O lead não foi criado.");
      }
    });
  });
  return { element: form, focus: () => phone.focus() };
}

/**
 * "Iniciar conversa": the business's number to write from (its active numbers, `connectionId` first)
 * → a `manual` ticket, shown with `onDone(ticket)`.
 */
export function startConversationForm(ctx, { leadId, connectionId, onDone, onCancel }) {
  const select = h("select", { id: uid("numero"), required: true });
  const feedback = new Feedback();
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Abrir ticket");
  const form = h(
    "form",
    { class: "form panel inbox-form", "aria-label": "Iniciar conversa", novalidate: true },
    h("h2", { class: "panel__title" }, "Iniciar conversa"),
    field(
      "Enviar pelo número",
      select,
      "O ticket abre sem mensagem do cliente. Fora da janela de 24 h da Meta, a primeira mensagem é um modelo aprovado.",
    ),
    feedback.element,
    h(
      "div",
      { class: "form__actions" },
      submit,
      h("button", { type: "button", class: "btn btn-quiet", on: { click: onCancel } }, "Cancelar"),
    ),
  );
  ctx.api
    .get("/connections", { signal: ctx.signal })
    .then(({ connections }) => {
      const usable = connections
        .filter((c) => c.connectionStatus === "active")
        .sort((a, b) => (a.id === connectionId ? -1 : b.id === connectionId ? 1 : 0));
      select.replaceChildren(...usable.map((c) => h("option", { value: c.id }, connectionName(c))));
      if (!usable.length) {
        submit.disabled = true;
        feedback.fail("Nenhum número conectado.", "Conecte um número em “Nova Instância” para iniciar conversas.");
      }
    })
    .catch((error) => {
      if (!isAbort(error)) feedback.error(error, "Não foi possível ler os números conectados.");
    });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (submit.disabled || !select.value) return;
    await busy(submit, async () => {
      try {
        const body = { leadId, connectionId: select.value, source: "manual" };
        const { data } = await ctx.api.request("POST", "/tickets", { body, signal: ctx.signal });
        onDone(data.ticket);
      } catch (error) {
        if (!isAbort(error)) feedback.error(error, "O ticket não foi aberto.");
      }
    });
  });
  return { element: form, focus: () => select.focus() };
}
