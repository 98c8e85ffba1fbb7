// The template picker: the WABA's approved templates, a field per parameter, and the text as the
// customer will read it.
import { isAbort, segment } from "../api.js";
import { h, uid } from "../dom.js";

const CATEGORY_LABELS = { MARKETING: "marketing", UTILITY: "utilidade", AUTHENTICATION: "autenticação" };

/** The template's text with `values` in its {{1}}, {{2}}… (an empty value shows its placeholder). */
export function fillTemplate(body, values) {
  return (body ?? "").replace(/\{\{\s*(\d+)\s*\}\}/g, (whole, number) => values[Number(number) - 1] || whole);
}

/** A `<select>` of the connection's templates (read once per page), its parameters and a preview. */
export class TemplatePicker {
  constructor({ api, connectionId, signal, onError }) {
    Object.assign(this, { api, connectionId, signal, onError });
    this.templates = null;
    this.loading = null;
    this.chosen = null;
    this.inputs = [];
    const selectId = uid("modelo");
    this.select = h("select", { id: selectId, required: true, on: { change: () => this.choose() } });
    this.params = h("div", { class: "template__params" });
    this.preview = h("p", { class: "template__preview msg__body", "aria-live": "polite" });
    this.previewBox = h(
      "figure",
      { class: "template__preview-box", hidden: true },
      h("figcaption", { class: "template__preview-title" }, "Prévia"),
      this.preview,
    );
    this.note = h("p", { class: "muted template__note", hidden: true });
    this.element = h(
      "div",
      { class: "template" },
      h("div", { class: "field" }, h("label", { for: selectId }, "Modelo aprovado"), this.select),
      this.note,
      this.params,
      this.previewBox,
    );
  }

  /** Reads the templates the first time the picker is shown; true when there is one to choose. */
  async open() {
    this.loading ??= this.api
      .get(`/connections/${segment(this.connectionId)}/templates`, { signal: this.signal })
      .then(({ templates }) => {
        this.templates = templates;
        this.fill();
      })
      .catch((error) => {
        this.loading = null; // the next opening asks again
        if (!isAbort(error)) this.onError(error);
      });
    await this.loading;
    return Boolean(this.templates?.length);
  }

  fill() {
    const options = this.templates.map((template, index) =>
      h(
        "option",
        { value: String(index) },
        `${template.name} · ${template.language}${CATEGORY_LABELS[template.category] ? ` · ${CATEGORY_LABELS[template.category]}` : ""}`,
      ),
    );
    this.select.replaceChildren(h("option", { value: "" }, "Escolha um modelo…"), ...options);
    this.note.hidden = this.templates.length > 0;
    this.note.textContent =
      "Nenhum modelo aprovado nesta conta do WhatsApp Business. Crie um modelo no Gerenciador do WhatsApp e aguarde a aprovação da Meta.";
    this.select.disabled = this.templates.length === 0;
  }

  choose() {
    const index = this.select.value;
    this.chosen = index === "" ? null : this.templates[Number(index)];
    this.inputs = [];
    const fields = [];
    for (let number = 1; number <= (this.chosen?.parameterCount ?? 0); number += 1) {
      const id = uid("parametro");
      const input = h("input", { id, type: "text", required: true, maxlength: "1024", "data-parameter": String(number) });
      input.addEventListener("input", () => this.showPreview());
      this.inputs.push(input);
      fields.push(h("div", { class: "field" }, h("label", { for: id }, `Parâmetro {{${number}}}`), input));
    }
    this.params.replaceChildren(...fields);
    this.showPreview();
  }

  showPreview() {
    this.previewBox.hidden = !this.chosen;
    this.preview.textContent = this.chosen ? fillTemplate(this.chosen.body, this.values()) : "";
  }

  values() {
    return this.inputs.map((input) => input.value.trim());
  }

  /** The body of the reply (`{template: …}`), or null with the first missing field focused. */
  body() {
    if (!this.chosen) {
      this.select.focus();
      return null;
    }
    const missing = this.inputs.find((input) => !input.value.trim());
    if (missing) {
      missing.focus();
      return null;
    }
    return { template: { name: this.chosen.name, language: this.chosen.language, parameters: this.values() } };
  }

  reset() {
    this.select.value = "";
    this.choose();
  }
}
