// The status API (CONTRACT §3): JSON bodies, Bearer key, errors as {"error": {"code", "message"}}.

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
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
  async function request(method, path, { body, signal, key, headers: extra } = {}) {
    const headers = { Accept: "application/json", ...extra };
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
    let data = null;
    try {
      data = await response.json();
    } catch (error) {
      if (isAbort(error)) throw error; // left the page while the body was arriving
    }
    if (response.ok) return { status: response.status, data };
    const detail = data?.error ?? {};
    const error = new ApiError(
      response.status,
      detail.code ?? `http_${response.status}`,
      detail.message ?? response.statusText,
    );
    if (response.status === 401 && key === undefined) onUnauthorized(error);
    throw error;
  }

  return {
    request,
    get: async (path, options) => (await request("GET", path, options)).data,
  };
}
