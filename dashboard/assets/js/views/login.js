import { Feedback } from "../components/feedback.js";
import { h } from "../dom.js";

/** The organization's API key, checked against the API before it is kept (in this tab only). */
export function renderLogin(ctx, notice) {
  const feedback = new Feedback();
  const input = h("input", {
    id: "chave",
    name: "chave",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    "aria-describedby": "chave-dica chave-erro",
  });
  const error = h("p", { id: "chave-erro", class: "field-error", hidden: true });
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Entrar");
  const form = h(
    "form",
    { class: "form login", novalidate: true, "aria-labelledby": "entrar" },
    h("h1", { id: "entrar", tabindex: "-1" }, "Entrar no painel"),
    h("p", {}, "Acompanhe as instâncias do WhatsApp da sua organização, a importação do histórico, os leads e os tickets."),
    h(
      "div",
      { class: "field" },
      h("label", { for: "chave" }, "Chave de API da organização"),
      input,
      h(
        "p",
        { id: "chave-dica", class: "field-hint" },
        "A chave é mostrada uma única vez, quando a organização é criada. Ela fica só nesta aba do navegador e some ao fechá-la.",
      ),
      error,
    ),
    feedback.element,
    h("div", { class: "form__actions" }, submit),
  );
  ctx.main.append(form);
  if (notice) feedback.info(notice);

  function showError(text) {
    error.textContent = text;
    error.hidden = false;
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }

  let busy = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    const key = input.value.trim();
    error.hidden = true;
    input.removeAttribute("aria-invalid");
    feedback.clear();
    if (!key) {
      showError("Informe a chave de API.");
      return;
    }
    busy = true;
    submit.setAttribute("aria-busy", "true");
    feedback.info("Verificando a chave…");
    try {
      await ctx.api.request("GET", "/connections", { key, signal: ctx.signal });
      ctx.signIn(key);
    } catch (failure) {
      feedback.clear();
      if (failure.status === 401) {
        showError("Chave de API inválida. Confira a chave recebida ao criar a organização.");
      } else if (failure.name !== "AbortError") {
        feedback.error(failure, "Não foi possível entrar.");
      }
    } finally {
      busy = false;
      submit.removeAttribute("aria-busy");
    }
  });
}
