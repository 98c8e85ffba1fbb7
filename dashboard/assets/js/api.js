// The status API (CONTRACT §3): JSON bodies, Bearer key, errors as {"error": {"code", "message"}}.

class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter; // seconds the server asked to wait (429, 503), or null
  }
}

/** `Retry-After` in seconds (a number or an HTTP date), or null. */
function retryAfterOf(response) {
  const value = response.headers.get("Retry-After");
  if (!value) return null;
  const seconds = /^\d+$/.test(value.trim()) ? Number(value) : (Date.parse(value) - Date.now()) / 1000;
  return Number.isFinite(seconds) && seconds > 0 ? seconds : null;
}

export function isAbort(error) {
  return error?.name === "AbortError";
}

/** `path?name=value…`, leaving out empty values. */
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") query.set(name, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

export function segment(id) {
  return encodeURIComponent(id);
}

/**
 * baseUrl: "" on the same origin; getKey: the session's API key;
 * onUnauthorized: called when the session's key is refused (not for an explicit `key`).
 */
export function createApi({ baseUrl, getKey, onUnauthorized }) {
  async function request(method, path, { body, signal, key, headers: extra, etag } = {}) {
    const headers = { Accept: "application/json", ...extra };
    if (etag) headers["If-None-Match"] = etag; // the copy we have: 304 (no body) while it is current
    const bearer = key ?? getKey();
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        cache: "no-store",
      });
    } catch (error) {
      if (isAbort(error)) throw error;
      throw new ApiError(0, "network_error", error.message);
    }
    const tag = response.headers.get("ETag");
    if (response.status === 304) return { status: 304, data: null, etag: tag ?? etag };
    let data = null;
    try {
      data = await response.json();
    } catch (error) {
      if (isAbort(error)) throw error; // left the page while the body was arriving
    }
    if (response.ok) return { status: response.status, data, etag: tag };
    const detail = data?.error ?? {};
    const error = new ApiError(
      response.status,
      detail.code ?? `http_${response.status}`,
      detail.message ?? response.statusText,
      retryAfterOf(response),
    );
    if (response.status === 401 && key === undefined) onUnauthorized(error);
    throw error;
  }

  return {
    request,
    get: async (path, options) => (await request("GET", path, options)).data,
  };
}
