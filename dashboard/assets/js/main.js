import { createApi } from "./api.js";
import { h } from "./dom.js";
import { renderDetails } from "./views/details.js";
import { renderInstances } from "./views/instances.js";
import { renderLead } from "./views/lead.js";
import { renderLeads } from "./views/leads.js";
import { renderLogin } from "./views/login.js";
import { renderNewInstance } from "./views/new-instance.js";
import { renderTicket } from "./views/ticket.js";

const KEY = "whatrack.apiKey"; // sessionStorage: the key lives as long as the tab
const APP_TITLE = "WhaTrack";

const ROUTES = [
  { pattern: /^\/$/, view: renderInstances, title: "Instâncias", nav: "instances" },
  { pattern: /^\/new$/, view: renderNewInstance, title: "Nova Instância", nav: "new" },
  { pattern: /^\/connections\/([^/]+)$/, view: renderDetails, title: "Detalhes da instância", nav: "instances" },
  { pattern: /^\/connections\/([^/]+)\/leads$/, view: renderLeads, title: "Leads e tickets", nav: "instances" },
  { pattern: /^\/connections\/([^/]+)\/leads\/([^/]+)$/, view: renderLead, title: "Lead", nav: "instances" },
  { pattern: /^\/tickets\/([^/]+)$/, view: renderTicket, title: "Ticket", nav: "instances" },
];

function parseHash(hash) {
  const [path, query = ""] = hash.replace(/^#/, "").split("?");
  return { path: path || "/", params: new URLSearchParams(query) };
}

/** The route of `path` and its decoded ids, or null (no route, or an id that is not valid %-encoding). */
function match(path) {
  const route = ROUTES.find((r) => r.pattern.test(path));
  if (!route) return null;
  try {
    return { route, ids: route.pattern.exec(path).slice(1).map(decodeURIComponent) };
  } catch {
    return null; // "#/connections/%ZZ": decodeURIComponent throws URIError
  }
}

class App {
  constructor(config) {
    this.config = config;
    this.main = document.getElementById("conteudo");
    this.nav = document.getElementById("navegacao");
    this.signOutButton = document.getElementById("sair");
    this.announcer = document.getElementById("anuncio");
    this.current = null;
    this.created = null;
    this.loginNotice = null;
    this.api = createApi({
      baseUrl: config.apiBaseUrl ?? "",
      getKey: () => sessionStorage.getItem(KEY),
      onUnauthorized: () => this.signOut("Sua chave de API não é mais aceita. Entre de novo."),
    });
  }

  start() {
    window.addEventListener("hashchange", () => this.route());
    this.signOutButton.addEventListener("click", () => this.signOut("Você saiu. A chave foi apagada desta aba."));
    document.getElementById("pular").addEventListener("click", () => this.main.focus());
    this.route();
  }

  announce(text) {
    this.announcer.textContent = text;
  }

  leave() {
    if (!this.current) return;
    this.current.controller.abort();
    this.current.cleanup?.();
    this.current = null;
  }

  context(controller) {
    return {
      api: this.api,
      config: this.config,
      main: this.main,
      signal: controller.signal,
      announce: (text) => this.announce(text),
      navigate: (hash) => {
        location.hash = hash;
      },
      setTitle: (text) => {
        document.title = `${text} · ${APP_TITLE}`;
      },
      created: (outcome) => {
        this.created = outcome;
      },
      takeCreated: () => {
        const outcome = this.created;
        this.created = null;
        return outcome;
      },
      signIn: (key) => {
        sessionStorage.setItem(KEY, key);
        this.route();
      },
    };
  }

  route() {
    this.leave();
    this.main.replaceChildren();
    const controller = new AbortController();
    const signedIn = Boolean(sessionStorage.getItem(KEY));
    this.nav.hidden = !signedIn;
    this.signOutButton.hidden = !signedIn;
    if (!signedIn) {
      document.title = `Entrar · ${APP_TITLE}`;
      const notice = this.loginNotice;
      this.loginNotice = null;
      this.current = { controller, cleanup: renderLogin(this.context(controller), notice) };
      document.getElementById("chave").focus();
      return;
    }
    const { path, params } = parseHash(location.hash);
    const found = match(path);
    const route = found?.route;
    for (const link of this.nav.querySelectorAll("[data-nav]")) {
      if (route?.nav === link.dataset.nav) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    if (!found) {
      document.title = `Página não encontrada · ${APP_TITLE}`;
      this.main.append(
        h("h1", { tabindex: "-1" }, "Página não encontrada"),
        h("p", {}, h("a", { href: "#/" }, "Voltar para as instâncias")),
      );
      this.current = { controller };
    } else {
      document.title = `${route.title} · ${APP_TITLE}`;
      const ctx = this.context(controller);
      this.current = { controller, cleanup: route.view(ctx, ...found.ids, params) };
    }
    this.main.querySelector("h1")?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }

  signOut(notice) {
    if (!sessionStorage.getItem(KEY)) return; // several requests may be refused at once
    sessionStorage.removeItem(KEY);
    this.loginNotice = notice;
    this.route();
  }
}

async function loadConfig() {
  const response = await fetch("config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: ${response.status}`);
  return response.json();
}

loadConfig().then(
  (config) => new App(config).start(),
  () => {
    document.getElementById("conteudo").replaceChildren(
      h("h1", {}, "O painel não pôde ser iniciado"),
      h("p", {}, "A configuração (config.json) não foi carregada. Recarregue a página em instantes."),
    );
  },
);
