/**
 * Free text and links as people type them, made safe to store, count, echo and render. Pure.
 * Limits count characters (code points), as people do: an emoji is one character, not two
 * UTF-16 units.
 */

/**
 * C0 controls but tab and line feed, DEL, C1 controls, the noncharacters U+FFFE/U+FFFF and lone
 * surrogates. libSQL drops everything after a U+0000, and none of them is text anyone meant.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNWANTED = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text from a form field: line breaks as "\n", unwanted characters removed, trimmed. */
export function cleanText(s: string): string {
  return s.replace(/\r\n?/g, '\n').replace(UNWANTED, '').trim();
}

const isPair = (s: string, i: number): boolean => {
  const hi = s.charCodeAt(i);
  const lo = s.charCodeAt(i + 1);
  return hi >= 0xd800 && hi <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff;
};

/** Length in characters (code points); a loop, as a refused input may be megabytes long. */
export function charCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i += isPair(s, i) ? 2 : 1) n += 1;
  return n;
}

/** At most `max` characters of `s`, never cutting a character in two. */
export function clip(s: string, max: number): string {
  let i = 0;
  for (let n = 0; n < max && i < s.length; n += 1) i += isPair(s, i) ? 2 : 1;
  return s.slice(0, i);
}

/** A short quote of what someone typed, for a message naming it ("…" when cut). */
export function quote(s: string, max = 60): string {
  return charCount(s) <= max ? s : `${clip(s, max - 1)}…`;
}

// ---------------------------------------------------------------------------- links

/**
 * Characters that end or break a link in our markdown subset, Feishu markdown or HTML. They are
 * percent-encoded, which servers read as the same address: `https://a.b/x)` → `https://a.b/x%29`.
 */
const LINK_UNSAFE = /[\s()[\]<>"'`{}|\\^*]/g;
/** A host name as URL gives it (internationalised names come as xn--…): letters, digits, dashes and dots. */
const HOST = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

const percentEncode = (c: string): string => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;

/**
 * An http(s) link as stored and shown: the characters above percent-encoded, nothing else
 * changed (Chinese paths stay readable). Null when it is not a web address with a real host
 * name (a dot in it, or localhost), or when it carries a user name or password.
 */
export function safeHttpLink(raw: string): string | null {
  const t = raw.trim();
  if (!/^https?:\/\//i.test(t)) return null;
  const encoded = t.replace(LINK_UNSAFE, percentEncode);
  let u: URL;
  try {
    u = new URL(encoded);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  if (u.username !== '' || u.password !== '') return null;
  if (u.hostname !== 'localhost' && !HOST.test(u.hostname)) return null;
  return encoded;
}

/** The host name a link goes to, as lvzhi shows it beside the link; null for an unsafe link. */
export function linkHost(raw: string): string | null {
  const safe = safeHttpLink(raw);
  return safe === null ? null : new URL(safe).hostname;
}
