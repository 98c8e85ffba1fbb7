import { isAbort } from "../api.js";
import { h, keepFocus } from "../dom.js";
import { Feedback } from "./feedback.js";

/**
 * A list read a page at a time (CONTRACT §3: `limit`, `cursor`, `nextCursor`) with "Carregar mais".
 * `url(cursor)` is the page's path, `items(body)` its entries, `item(entry)` one entry's element.
 */
export class PagedList {
  constructor({ ctx, url, items, item, label, emptyText, failure, tag = "ul", className = "rows" }) {
    Object.assign(this, { ctx, url, items, item, failure });
    this.cursor = null;
    this.following = true; // only the first page is shown: a refresh may replace it
    this.sequence = 0;
    this.feedback = new Feedback();
    this.list = h(tag, { class: className, "aria-label": label });
    this.empty = h("p", { class: "empty-inline", hidden: true }, emptyText);
    this.more = h("button", { type: "button", class: "btn more", hidden: true, on: { click: () => this.load(false) } }, "Carregar mais");
    this.news = h(
      "p",
      { class: "notice notice--info paged__news", hidden: true },
      "Há novidades nesta lista. ",
      h("button", { type: "button", class: "btn btn-quiet", on: { click: () => this.load(true) } }, "Atualizar lista"),
    );
    this.element = h("div", { class: "paged" }, this.feedback.element, this.news, this.empty, this.list, this.more);
  }

  setEmptyText(text) {
    this.empty.textContent = text;
  }

  /** Something of the list changed: its first page is read again when it is all that is shown; a
   * reader of later pages keeps them and is offered the news ("Atualizar lista") instead. */
  async changed() {
    if (this.following) return this.load(true, { quiet: true });
    this.news.hidden = false;
  }

  async load(reset, { quiet = false } = {}) {
    this.sequence += 1;
    const mine = this.sequence;
    if (!quiet) this.list.setAttribute("aria-busy", "true");
    try {
      const body = await this.ctx.api.get(this.url(reset ? null : this.cursor), { signal: this.ctx.signal });
      if (mine !== this.sequence) return;
      this.feedback.clear();
      const elements = this.items(body).map((entry) => this.item(entry));
      if (reset) keepFocus(this.list, () => this.list.replaceChildren(...elements));
      else this.list.append(...elements);
      if (reset) this.news.hidden = true;
      this.following = reset;
      this.cursor = body.nextCursor ?? null;
      this.more.hidden = !this.cursor;
      this.empty.hidden = this.list.children.length > 0;
    } catch (error) {
      if (!isAbort(error) && mine === this.sequence) this.feedback.error(error, this.failure);
      if (quiet) throw error; // a refresh's failure: its caller backs off
    } finally {
      if (mine === this.sequence) this.list.removeAttribute("aria-busy");
    }
  }
}
