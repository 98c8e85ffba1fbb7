// The reply box of an open ticket (CONTRACT §7a): free text while Meta's 24 h window is open, an
// approved template always. Each message is posted with an Idempotency-Key: a send that got no
// answer is tried again with the same key (the server sends it once), a new message gets a new one.
import { isAbort } from "../api.js";
import { h, srOnly, uid } from "../dom.js";
import { summaryText } from "./message-content.js";
import { TemplatePicker } from "./templates.js";

const MAX_TEXT = 4096;

/** A fresh Idempotency-Key (a UUID where the browser has one). */
export function newKey() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Meta's customer service window (`customerServiceWindowEndsAt`): open with its time left, or closed. */
export function metaWindow(endsAt, now = Date.now()) {
  const left = endsAt ? Date.parse(endsAt) - now : 0;
  if (!(left > 0)) {
    return {
      open: false,
      label: endsAt
        ? "A janela de 24 h da Meta fechou: o cliente não escreve há mais de 24 h. Só modelos aprovados podem ser enviados."
        : "A janela de 24 h da Meta está fechada: o cliente não escreveu ao vivo desde a conexão do número. Só modelos aprovados podem ser enviados.",
    };
  }
  const hours = Math.floor(left / 3_600_000);
  const minutes = Math.floor((left % 3_600_000) / 60_000);
  const time = hours ? `${hours} h ${minutes} min` : `${Math.max(minutes, 1)} min`;
  return { open: true, label: `Janela de 24 h da Meta aberta: ${time} para responder com texto livre.` };
}

/** The body of a reply sent again: the same text (and quote) or the same template. */
export function resendBody(message) {
  if (message.template) return { template: message.template };
  return message.replyToId ? { text: message.body, replyToId: message.replyToId } : { text: message.body };
}

/**
 * `post(body, key)` resolves to the accepted message; `onSent(message)` shows it in the timeline;
 * `feedback` says what went wrong; `picker` is the TemplatePicker of the ticket's connection.
 */
export class Composer {
  constructor({ post, onSent, feedback, picker }) {
    Object.assign(this, { post, onSent, feedback, picker });
    this.ticket = null;
    this.mode = "text";
    this.target = null;
    this.attempt = null; // {json, key}: the last send that got no answer, tried again with its key
    this.resendKeys = new Map(); // a failed reply's clientMessageId → the key of sending it again, until answered
    this.busy = false;

    const textId = uid("resposta");
    const hintId = uid("dica");
    this.windowLine = h("p", { class: "composer__window", "data-window": "closed" });
    this.quoteLine = h("div", { class: "composer__quote", hidden: true });
    this.text = h("textarea", {
      id: textId,
      rows: "2",
      maxlength: String(MAX_TEXT),
      placeholder: "Digite uma mensagem",
      "aria-describedby": hintId,
    });
    this.text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    this.sendButton = h("button", { type: "submit", class: "btn btn-primary composer__send" }, "Enviar");
    this.modeButton = h("button", { type: "button", class: "btn composer__mode", on: { click: () => this.toggleMode() } });
    this.textPart = h(
      "div",
      { class: "composer__text" },
      h("label", { for: textId, class: "visually-hidden" }, "Mensagem"),
      this.text,
      h("p", { id: hintId, class: "composer__hint muted" }, "Enter envia · Shift+Enter quebra a linha"),
    );
    this.templatePart = h("div", { class: "composer__template", hidden: true }, picker.element);
    this.form = h(
      "form",
      { class: "composer", "aria-label": "Responder", novalidate: true, on: { submit: (event) => this.onSubmit(event) } },
      this.windowLine,
      this.quoteLine,
      this.textPart,
      this.templatePart,
      h("div", { class: "composer__actions" }, this.modeButton, this.sendButton),
    );
    this.element = h("section", { class: "panel composer-panel", hidden: true }, this.form);
  }

  /** The ticket as last read: hidden when closed; free text only while Meta's window is open. */
  update(ticket) {
    this.ticket = ticket;
    this.element.hidden = ticket.status !== "open";
    if (this.element.hidden) return; // a closed ticket is read-only: no templates to read
    const state = metaWindow(ticket.customerServiceWindowEndsAt);
    this.windowLine.textContent = state.label;
    this.windowLine.setAttribute("data-window", state.open ? "open" : "closed");
    this.windowOpen = state.open;
    if (!state.open && this.mode === "text") this.setMode("template", { focus: false });
    this.modeButton.hidden = !state.open;
    this.showMode();
  }

  toggleMode() {
    this.setMode(this.mode === "text" ? "template" : "text");
  }

  /** `focus`: false when the page changes the mode by itself (the window closed), not the agent. */
  setMode(mode, { focus = true } = {}) {
    this.mode = mode;
    this.showMode();
    if (mode === "template") this.picker.open();
    if (!focus) return;
    if (mode === "template") this.picker.select.focus({ preventScroll: true });
    else this.text.focus();
  }

  showMode() {
    const template = this.mode === "template";
    this.textPart.hidden = template;
    this.templatePart.hidden = !template;
    this.modeButton.textContent = template ? "Escrever mensagem" : "Usar modelo";
    this.sendButton.textContent = template ? "Enviar modelo" : "Enviar";
  }

  /** "Responder" on a message: the next text quotes it. */
  replyTo(message) {
    this.target = message;
    this.quoteLine.replaceChildren(
      h("p", { class: "composer__quote-text" }, srOnly("Respondendo a: "), summaryText(message)),
      h(
        "button",
        { type: "button", class: "btn btn-small", "aria-label": "Cancelar a citação", on: { click: () => this.clearQuote() } },
        "✕",
      ),
    );
    this.quoteLine.hidden = false;
    if (this.windowOpen) this.setMode("text");
  }

  clearQuote() {
    this.target = null;
    this.quoteLine.hidden = true;
    this.quoteLine.replaceChildren();
  }

  onSubmit(event) {
    event.preventDefault();
    this.submit();
  }

  body() {
    if (this.mode === "template") return this.picker.body();
    const text = this.text.value.trim();
    if (!text) {
      this.text.focus();
      return null;
    }
    return this.target?.id ? { text, replyToId: this.target.id } : { text };
  }

  async submit() {
    if (this.busy) return;
    const body = this.body();
    if (!body) return;
    const json = JSON.stringify(body);
    const key = this.attempt?.json === json ? this.attempt.key : newKey();
    this.attempt = { json, key };
    const typed = this.text.value;
    const quoted = this.target;
    const sent = await this.send(body, key, this.sendButton);
    if (!sent) return;
    this.attempt = null;
    // what the agent typed or quoted while it was on its way stays
    if (this.mode === "template") this.picker.reset();
    else if (this.text.value === typed) this.text.value = "";
    if (this.target === quoted) this.clearQuote();
    this.text.focus({ preventScroll: true });
  }

  /** "Enviar de novo" on a failed reply: the same content as a new message, under one key until it is
   * answered (a click after a lost answer is that same new message, never a third one). */
  async resend(message, button) {
    if (this.busy) return;
    const id = message.clientMessageId;
    const key = this.resendKeys.get(id) ?? newKey();
    this.resendKeys.set(id, key);
    if (await this.send(resendBody(message), key, button)) this.resendKeys.delete(id);
  }

  forgetResendKey(key) {
    for (const [id, kept] of this.resendKeys) if (kept === key) this.resendKeys.delete(id);
  }

  async send(body, key, button) {
    this.busy = true;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      const message = await this.post(body, key);
      this.feedback.clear();
      this.onSent(message);
      return true;
    } catch (error) {
      if (isAbort(error)) return false;
      if (error.code === "customer_service_window_closed") this.setMode("template");
      if (error.code === "idempotency_key_reused") this.attempt = null;
      const unanswered = !error.status || error.status >= 500;
      if (!unanswered) this.forgetResendKey(key); // refused: nothing was taken, the next click tries anew
      this.feedback.error(
        error,
        unanswered
          ? "A mensagem pode não ter sido aceita. Envie de novo: ela não será duplicada."
          : "A mensagem não foi enviada.",
      );
      return false;
    } finally {
      this.busy = false;
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }
}
