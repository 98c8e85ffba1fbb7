// Dates, numbers, phone numbers and the message window, the way a Brazilian user reads them.

const LOCALE = "pt-BR";
const dateTime = new Intl.DateTimeFormat(LOCALE, { dateStyle: "short", timeStyle: "short" });
const clock = new Intl.DateTimeFormat(LOCALE, { hour: "2-digit", minute: "2-digit" });
const clockSeconds = new Intl.DateTimeFormat(LOCALE, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const longDay = new Intl.DateTimeFormat(LOCALE, { day: "numeric", month: "long", year: "numeric" });
const integer = new Intl.NumberFormat(LOCALE);

export function formatDateTime(iso) {
  return iso ? dateTime.format(new Date(iso)) : "—";
}

export function formatTime(iso) {
  return clock.format(new Date(iso));
}

export function formatClock(date) {
  return clockSeconds.format(date);
}

export function formatDay(iso) {
  return longDay.format(new Date(iso));
}

export function dayKey(iso) {
  const date = new Date(iso);
  return `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`;
}

export function formatNumber(value) {
  return integer.format(value ?? 0);
}

export function plural(count, one, many) {
  return `${formatNumber(count)} ${count === 1 ? one : many}`;
}

export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (hours) return `${hours} h ${minutes} min`;
  if (minutes) return `${minutes} min ${rest} s`;
  return `${rest} s`;
}

/** "+55 11 95555-0100" for Brazilian numbers, "+<digits>" otherwise. */
export function formatPhone(value) {
  if (!value) return "";
  const digits = value.replace(/\D/g, "");
  if (!digits) return value;
  if (digits.startsWith("55") && (digits.length === 12 || digits.length === 13)) {
    const local = digits.slice(4);
    return `+55 ${digits.slice(2, 4)} ${local.slice(0, -4)}-${local.slice(-4)}`;
  }
  return `+${digits}`;
}

/** The 24 h customer-service window of a ticket: none for history leads (CONTRACT §8.3). */
export function windowState(expiresAt, now = Date.now()) {
  // the product's 24 h to answer (§8.3), named apart from Meta's window, which the composer shows
  if (expiresAt === null || expiresAt === undefined) {
    return { kind: "none", label: "sem prazo de atendimento" };
  }
  const left = Date.parse(expiresAt) - now;
  if (left <= 0) return { kind: "expired", label: "prazo de atendimento expirado" };
  const hours = Math.floor(left / 3_600_000);
  const minutes = Math.floor((left % 3_600_000) / 60_000);
  return {
    kind: "open",
    label: hours ? `prazo de atendimento: ${hours} h ${minutes} min` : `prazo de atendimento: ${minutes} min`,
  };
}

/** "48 KB", "1,3 MB": a file's size as people read it. */
export function formatBytes(bytes) {
  if (typeof bytes !== "number" || !Number.isFinite(bytes) || bytes < 0) return null;
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = value < 10 && unit > 0 ? 1 : 0;
  return `${value.toLocaleString("pt-BR", { maximumFractionDigits: digits })} ${units[unit]}`;
}
