/**
 * The tenants function's page. Payload 2.0 shapes, escaping, content negotiation and the JSON and HTML
 * responses are the `hits` function's (functions/lib/http.ts), so both routes answer alike.
 */
import { escapeHtml } from '../lib/http';

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
