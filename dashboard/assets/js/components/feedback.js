import { h } from "../dom.js";
import { explainError } from "../labels.js";

/** An error as a person reads it: what happened and what to do, in Portuguese; the code and the
 * server's own words (often English) folded under "Detalhes técnicos" for whoever needs them. */
function errorNotice(error, lead) {
  if (!("status" in error)) console.error(error);
  const { summary, detail } = explainError(error);
  return h(
    "div",
    { class: "notice notice--error" },
    h("p", { class: "notice__title" }, lead ?? summary),
    lead ? h("p", {}, summary) : null,
    technicalDetails(error, detail),
  );
}

/** The raw code (and HTTP status) and the server's message, closed by default. */
export function technicalDetails(error, detail = error.message) {
  if (!error.code && !detail) return null;
  const code = [error.code, error.status ? `HTTP ${error.status}` : null].filter(Boolean).join(" · ");
  return h(
    "details",
    { class: "notice__detail" },
    h("summary", {}, "Detalhes técnicos"),
    code ? h("p", {}, h("code", {}, code)) : null,
    detail ? h("p", {}, detail) : null,
  );
}

/**
 * A message area next to what it is about. Both live regions exist before anything is said in them,
 * so screen readers announce the outcome of each action (errors assertively).
 */
export class Feedback {
  constructor() {
    this.polite = h("div", { role: "status" });
    this.assertive = h("div", { role: "alert" });
    this.element = h("div", { class: "feedback" }, this.polite, this.assertive);
  }

  clear() {
    this.polite.replaceChildren();
    this.assertive.replaceChildren();
  }

  success(...content) {
    this.clear();
    this.polite.append(h("div", { class: "notice notice--success" }, ...content));
  }

  info(...content) {
    this.clear();
    this.polite.append(h("div", { class: "notice notice--info" }, ...content));
  }

  /** A problem that is not an API error (a cancelled signup, a script that did not load). */
  fail(title, text) {
    this.clear();
    this.assertive.append(
      h("div", { class: "notice notice--error" }, h("p", { class: "notice__title" }, title), text ? h("p", {}, text) : null),
    );
  }

  error(error, lead) {
    this.clear();
    this.assertive.append(errorNotice(error, lead));
  }
}
