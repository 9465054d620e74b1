/**
 * HTTP API payload 2.0 shapes and rendering for the tenants function. Kept here rather than shared with
 * `hits`, so this function depends on nothing but its own folder and its npm packages.
 */
export interface HttpEvent {
  readonly rawPath?: string;
  readonly headers?: Record<string, string | undefined>;
  readonly requestContext?: { readonly requestId?: string; readonly http?: { readonly method?: string } };
}

export interface LambdaContext {
  readonly awsRequestId?: string;
}

export interface HttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/** HTML only when the client names text/html and ranks it at least as high as JSON (browsers do; curl does not). */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  let html = { q: 0, named: false };
  let json = 0;
  for (const part of accept.split(',')) {
    const [range, ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((p) => /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p)).find(Boolean);
    const q = qParam ? Math.min(1, Number(qParam[1]) || 0) : 1;
    if (range === 'text/html') html = { q, named: true };
    if (range === 'application/json' || range === 'application/*' || range === '*/*') json = Math.max(json, q);
  }
  return html.named && html.q > 0 && html.q >= json;
}

const COMMON_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

export function json(statusCode: number, body: unknown, extra: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { 'content-type': 'application/json; charset=utf-8', ...COMMON_HEADERS, ...extra }, body: JSON.stringify(body) };
}

export function html(statusCode: number, body: string): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'", ...COMMON_HEADERS },
    body,
  };
}

export interface Item {
  readonly id: number;
  readonly c1: number;
  readonly c2: number;
  readonly c3: number;
  readonly c4: number;
  readonly c5: number;
}

export function itemsPage(tenant: number, items: readonly Item[]): string {
  const cell = (v: unknown) => `<td>${escapeHtml(String(v))}</td>`;
  const rows = items.map((i) => `<tr>${[i.id, i.c1, i.c2, i.c3, i.c4, i.c5].map(cell).join('')}</tr>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tenant ${escapeHtml(String(tenant))}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}</style>
</head><body>
<h1>Tenant ${escapeHtml(String(tenant))}: ${items.length} random items</h1>
<table><thead><tr><th>id</th><th>c1</th><th>c2</th><th>c3</th><th>c4</th><th>c5</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}
