/** HTTP API payload 2.0 shapes (only what the function reads) and response rendering. */

export interface HttpEvent {
  readonly version?: string;
  readonly rawPath?: string;
  readonly rawQueryString?: string;
  readonly headers?: Record<string, string | undefined>;
  readonly requestContext?: {
    readonly requestId?: string;
    readonly http?: { readonly method?: string; readonly path?: string };
  };
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
}

export interface LambdaContext {
  readonly awsRequestId?: string;
  /** Milliseconds until Lambda ends the invocation (the Node.js runtime's context method). */
  getRemainingTimeInMillis?(): number;
}

/**
 * Seconds a client should wait after a 503: the database or STS was unavailable, saturated or out of time.
 * Every route answers with the same value.
 */
export const RETRY_AFTER_SECONDS = 2;

export interface HttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded?: boolean;
}

export interface Hit {
  id: number;
  path: string;
  method: string;
  at: string;
}

/**
 * Where a response's listing came from, as the JSON `cache` field and the log line say it:
 * - `hit`: the cache (GET /_/hits);
 * - `miss`: the database, after the cache had no fresh listing (GET /_/hits);
 * - `bypass`: the database, without asking the cache: a recording request reads back what it just
 *   inserted, so a cached listing could only be older (it then refreshes the cache with this one);
 * - `off`: the database, no cache configured.
 */
export type CacheOutcome = 'hit' | 'miss' | 'bypass' | 'off';

/** The HTML page's wording of a CacheOutcome: a write's listing is fresh from the database, not a failed cache read. */
export const LISTING_SOURCE: Readonly<Record<CacheOutcome, string>> = {
  hit: 'from cache',
  miss: 'from the database (cache miss)',
  bypass: 'from the database',
  off: 'from the database (cache off)',
};

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/** Quality of `type` (e.g. "text/html") in an Accept header, using the most specific matching range. */
function quality(accept: string, type: string): { q: number; explicit: boolean } {
  const [major] = type.split('/');
  let best = { q: 0, specificity: -1, explicit: false };
  for (const part of accept.split(',')) {
    const [range, ...params] = part.trim().toLowerCase().split(';');
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p);
      if (m) q = Math.min(1, Number(m[1]) || 0);
    }
    const specificity = range === type ? 2 : range === `${major}/*` ? 1 : range === '*/*' ? 0 : -1;
    if (specificity > best.specificity) best = { q, specificity, explicit: specificity === 2 };
  }
  return { q: best.q, explicit: best.explicit };
}

/** HTML only when the client names text/html and ranks it at least as high as JSON (browsers do; curl does not). */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const html = quality(accept, 'text/html');
  const json = quality(accept, 'application/json');
  return html.explicit && html.q > 0 && html.q >= json.q;
}

const COMMON_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

export function json(statusCode: number, body: unknown, extra: Record<string, string> = {}): HttpResult {
  return jsonText(statusCode, JSON.stringify(body), extra);
}

/** 503 with Retry-After: a later request may succeed. */
export function retryLater(requestId: string, error = 'temporarily unavailable, retry later'): HttpResult {
  return json(503, { error, requestId }, { 'retry-after': String(RETRY_AFTER_SECONDS) });
}

/** 500 naming nothing but the request (no tenant, no cause): the log line carries them. */
export function internalError(requestId: string): HttpResult {
  return json(500, { error: 'internal error', requestId });
}

/** A JSON response from already serialized text. */
export function jsonText(statusCode: number, text: string, extra: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', ...COMMON_HEADERS, ...extra },
    body: text,
  };
}

/**
 * An empty answer that clients may keep: for requests browsers make on their own (`/favicon.ico`),
 * so they neither record a hit nor come back on every page load. A 204 is cacheable, and
 * `max-age` gives it explicit freshness (RFC 9110 §15.3.5, RFC 9111 §5.2.2.1).
 */
export function emptyCacheable(maxAgeSeconds: number): HttpResult {
  return {
    statusCode: 204,
    headers: { 'cache-control': `public, max-age=${maxAgeSeconds}`, 'x-content-type-options': 'nosniff' },
    body: '',
  };
}

export function html(statusCode: number, body: string): HttpResult {
  return {
    statusCode,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
      ...COMMON_HEADERS,
    },
    body,
  };
}

export function hitsPage(hits: readonly Hit[], cache: CacheOutcome): string {
  const rows = hits
    .map((h) => `<tr><td>${h.id}</td><td>${escapeHtml(h.method)}</td><td><code>${escapeHtml(h.path)}</code></td><td>${escapeHtml(h.at)}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hits</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}code{word-break:break-all}</style>
</head><body>
<h1>Recent hits</h1>
<p>${hits.length} most recent (newest first), listing: ${escapeHtml(LISTING_SOURCE[cache])}</p>
<table><thead><tr><th>id</th><th>method</th><th>path</th><th>at (UTC)</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}
