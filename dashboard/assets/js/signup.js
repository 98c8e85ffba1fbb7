// Meta's Embedded Signup (Facebook Login for Business) in the browser: the SDK gives a code for the
// business token, and a session message from Facebook names the WABA (and maybe the number).

const SDK_URL = "https://connect.facebook.net/en_US/sdk.js";
const META_ORIGINS = new Set(["https://www.facebook.com", "https://web.facebook.com"]);
const SESSION_WAIT_MS = 10_000;

export class SignupProblem extends Error {
  constructor(title, message) {
    super(message);
    this.title = title;
  }
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.async = true;
    script.crossOrigin = "anonymous";
    script.addEventListener("load", resolve);
    script.addEventListener("error", () => reject(new Error(`${src} did not load`)));
    document.head.append(script);
  });
}

let sdk = null;

/** The Facebook SDK, initialised once; a page that already has `window.FB` loads nothing. */
export function facebookSdk(config) {
  sdk ??= (async () => {
    if (!window.FB) await loadScript(SDK_URL);
    if (!window.FB) throw new Error("FB is not defined after loading the SDK");
    window.FB.init({ appId: config.metaAppId, version: config.graphApiVersion, xfbml: false });
    return window.FB;
  })();
  sdk.catch(() => {
    sdk = null; // let a later click try again
  });
  return sdk;
}

function loginOptions(config, mode) {
  const extras = { setup: {}, sessionInfoVersion: "3" };
  if (mode === "coexistence") extras.featureType = "whatsapp_business_app_onboarding";
  return {
    config_id: config.esConfigId,
    response_type: "code",
    override_default_response_type: true,
    extras,
  };
}

function sessionEvent(raw) {
  if (typeof raw !== "string") return raw;
  try {
    return JSON.parse(raw);
  } catch {
    return null;
  }
}

/**
 * Opens the flow and resolves with {code, wabaId, phoneNumberId|null}. The code comes through the
 * FB.login callback and the ids through a `message` event, in either order; the code lives 30 s, so
 * the session event is awaited for a few seconds only.
 */
export function embeddedSignup(FB, config, mode) {
  return new Promise((resolve, reject) => {
    let code = null;
    let session = null;
    let timer = null;
    let settled = false;

    function finish(outcome, value) {
      if (settled) return;
      settled = true;
      window.removeEventListener("message", onMessage);
      clearTimeout(timer);
      outcome(value);
    }

    function settle() {
      if (code && session) {
        finish(resolve, { code, ...session });
      } else if (code && timer === null) {
        timer = setTimeout(
          () =>
            finish(
              reject,
              new SignupProblem(
                "O cadastro da Meta não informou a conta.",
                "A Meta não enviou a conta do WhatsApp Business (WABA) escolhida. Tente conectar de novo.",
              ),
            ),
          SESSION_WAIT_MS,
        );
      }
    }

    function onMessage(event) {
      if (!META_ORIGINS.has(event.origin)) return;
      const data = sessionEvent(event.data);
      if (data?.type !== "WA_EMBEDDED_SIGNUP") return;
      const kind = String(data.event ?? "");
      if (kind.startsWith("FINISH") && data.data?.waba_id) {
        const pnid = data.data.phone_number_id;
        session = { wabaId: String(data.data.waba_id), phoneNumberId: pnid ? String(pnid) : null };
        settle();
      } else if (kind === "CANCEL") {
        const step = data.data?.current_step;
        finish(
          reject,
          new SignupProblem(
            "Cadastro cancelado na Meta.",
            `Nada foi criado${step ? ` (etapa em que parou: ${step})` : ""}. Você pode começar de novo.`,
          ),
        );
      } else if (kind === "ERROR") {
        finish(reject, new SignupProblem("A Meta informou um erro no cadastro.", data.data?.error_message ?? ""));
      }
    }

    window.addEventListener("message", onMessage);
    // FB.login wants a plain function, not an async one
    FB.login((response) => {
      code = response?.authResponse?.code ?? null;
      if (code) settle();
      else finish(reject, new SignupProblem("Cadastro cancelado na Meta.", "A janela da Meta foi fechada antes do fim. Nada foi criado."));
    }, loginOptions(config, mode));
  });
}
