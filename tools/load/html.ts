/**
 * report.html: one self-contained page (inline CSS and SVG, no script, no fetch), so it opens from a
 * file, a CI artifact or an e-mail the same way. A Content-Security-Policy of `default-src 'none'` makes the
 * browser refuse any network request the page might make. Every text from input (arm names, URLs, codes,
 * CloudWatch labels) is escaped.
 */
import { escapeHtml as escapeText } from '../../functions/lib/http';
import type { ArmReport, CloudWatchSection, LoadReport, MetricSeries } from './types';

/** Any value (counts, names) as escaped HTML text. */
const escapeHtml = (value: unknown) => escapeText(String(value));

/** Distinct on white and for the common colour-vision deficiencies (Okabe–Ito). */
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];
export const armColour = (index: number) => PALETTE[index % PALETTE.length];

interface Line {
  readonly label: string;
  readonly colour: string;
  readonly dash?: string;
  /** Arm the line belongs to (data-series), for tests and people reading the source. */
  readonly arm?: string;
  readonly points: readonly { readonly t: number; readonly v: number }[];
}

/** The y axis: a step of 1, 2 or 5 × 10^k and up to 5 steps to reach `max`, so every label is a round number. */
function yTicks(max: number): number[] {
  if (max <= 0) return [0, 1];
  let step = 10 ** Math.floor(Math.log10(max / 5));
  for (const m of [1, 2, 5, 10]) if (max / (m * step) <= 5) return Array.from({ length: Math.ceil(max / (m * step)) + 1 }, (_v, i) => i * m * step);
  return [0, max];
}

/** A ratio to two significant digits, so 1 ms against 250 ms reads 0.004×, not 0×. */
const ratio = (r: number) => String(Number(r.toPrecision(2)));
const fmt = (v: number) => (Math.abs(v) >= 100 ? String(Math.round(v)) : String(Math.round(v * 10) / 10));

function clock(ms: number, origin: number): string {
  const s = Math.round((ms - origin) / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}`;
}

/**
 * Where the x axis starts and ends, in ms from each arm's own start (the run's, when the arms ran mixed), so a
 * sequential run's arms lie over each other; widened to any point outside it (CloudWatch minutes).
 */
interface Span {
  readonly from: number;
  readonly to: number;
  /** The x axis' caption. */
  readonly label: string;
}

/** A legend entry: a line style and what it stands for. */
interface Key {
  readonly label: string;
  readonly colour: string;
  readonly dash?: string;
}

/** A line chart in SVG: time on x (seconds from the window's start), value on y from 0. `keys` replaces the legend of one entry per line. */
function chart(id: string, title: string, unit: string, lines: readonly Line[], span: Span, keys?: readonly Key[]): string {
  const origin = span.from;
  const W = 560;
  const H = 220;
  const L = 60;
  const R = 12;
  const T = 28;
  const B = 34;
  const all = lines.flatMap((l) => l.points);
  if (all.length === 0) return `<figure class="chart" data-chart="${escapeHtml(id)}"><figcaption>${escapeHtml(title)}</figcaption><p class="empty">no data</p></figure>`;
  const t0 = Math.min(span.from, ...all.map((p) => p.t));
  const t1 = Math.max(span.to, t0 + 1000, ...all.map((p) => p.t));
  const levels = yTicks(Math.max(...all.map((p) => p.v)));
  const top = levels[levels.length - 1];
  const x = (t: number) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
  const y = (v: number) => T + (1 - v / top) * (H - T - B);
  const grid = levels.map((v) => `<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" class="grid"/><text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`).join('');
  const yLabel = `<text x="12" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 12 ${(T + H - B) / 2})">${escapeHtml(unit)}</text>`;
  const ticks = [0, 0.5, 1].map((f) => t0 + f * (t1 - t0)).map((t) => `<text x="${x(t)}" y="${H - B + 16}" text-anchor="middle">${clock(t, origin)}</text>`).join('');
  const paths = lines
    .map((l) => {
      const d = l.points.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
      const dots = l.points.map((p) => `<circle cx="${x(p.t).toFixed(1)}" cy="${y(p.v).toFixed(1)}" r="3" fill="${l.colour}"><title>${escapeHtml(`${l.label}: ${fmt(p.v)} ${unit} at ${clock(p.t, origin)}`)}</title></circle>`).join('');
      return `<g data-series="${escapeHtml(l.arm ?? l.label)}"><path d="${d}" fill="none" stroke="${l.colour}" stroke-width="2"${l.dash ? ` stroke-dasharray="${l.dash}"` : ''}/>${dots}</g>`;
    })
    .join('');
  const legend = (keys ?? lines).map((l) => `<span class="key"><svg width="22" height="10" aria-hidden="true"><line x1="0" x2="22" y1="5" y2="5" stroke="${l.colour}" stroke-width="2"${l.dash ? ` stroke-dasharray="${l.dash}"` : ''}/></svg>${escapeHtml(l.label)}</span>`).join('');
  return `<figure class="chart" data-chart="${escapeHtml(id)}"><figcaption>${escapeHtml(title)} <small>(${escapeHtml(unit)})</small></figcaption><svg class="plot" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(title)}">${grid}${yLabel}<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" class="axis"/><line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" class="axis"/>${ticks}<text x="${W - R}" y="${H - 4}" text-anchor="end">${escapeHtml(span.label)}</text>${paths}</svg><div class="legend">${legend}</div></figure>`;
}

/** A period's point sits at its middle, so a 3-second run is not drawn at second 0; in ms from the arm's start. */
const mid = (start: string, seconds: number, armStart: number) => Math.max(Date.parse(start), armStart) + (seconds * 1000) / 2 - armStart;

function armLines(report: LoadReport, pick: (p: ArmReport['series'][number]) => number | null, dash?: string, suffix = ''): Line[] {
  return report.arms.map((arm, i) => ({
    label: `${arm.name}${suffix}`,
    arm: arm.name,
    colour: armColour(i),
    ...(dash ? { dash } : {}),
    points: arm.series.flatMap((p) => {
      const v = pick(p);
      return v === null ? [] : [{ t: mid(p.start, p.seconds, Date.parse(arm.window.start)), v }];
    }),
  }));
}

const ms = (v: number | undefined | null) => (v === undefined || v === null ? '–' : `${fmt(v)} ms`);
const counts = (record: Readonly<Record<string, number>>) =>
  Object.keys(record).length ? Object.entries(record).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `<span class="code">${escapeHtml(k)}: ${escapeHtml(v)}</span>`).join(' ') : '–';

function summaryTable(report: LoadReport): string {
  const rows = report.arms
    .map((arm, i) => {
      const bad = report.thresholds.some((t) => t.arm === arm.name && !t.ok);
      return `<tr data-arm="${escapeHtml(arm.name)}"${bad ? ' class="breach"' : ''}><th scope="row"><span class="swatch" style="background:${armColour(i)}"></span>${escapeHtml(arm.name)}<div class="url">${escapeHtml(arm.url)}</div></th><td>${escapeHtml(arm.requests)}</td><td>${escapeHtml(arm.rps)}</td><td>${escapeHtml(arm.throughput)}</td><td class="${arm.failures.total ? 'bad' : ''}">${escapeHtml(arm.failures.total)} (${escapeHtml(fmt(arm.failures.percent))} %)</td><td>${ms(arm.latency?.p50)}</td><td>${ms(arm.latency?.p90)}</td><td>${ms(arm.latency?.p99)}</td><td>${ms(arm.latency?.max)}</td><td>${counts(arm.codes)}</td><td>${counts(arm.failures.byError)}</td></tr>`;
    })
    .join('');
  return `<table class="summary"><thead><tr><th>arm</th><th>requests</th><th>sent/s</th><th>throughput (2xx–3xx/s)</th><th>failures</th><th>p50</th><th>p90</th><th>p99</th><th>max</th><th>status codes</th><th>errors (no response)</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** One headline figure of every arm, side by side. */
interface Headline {
  readonly id: string;
  readonly title: string;
  readonly unit: string;
  readonly better: 'higher' | 'lower';
  readonly value: (arm: ArmReport) => number | null;
}

const HEADLINES: readonly Headline[] = [
  { id: 'throughput', title: 'Throughput', unit: 'req/s', better: 'higher', value: (a) => a.throughput },
  { id: 'failures', title: 'Failures', unit: '%', better: 'lower', value: (a) => a.failures.percent },
  { id: 'p50', title: 'Latency p50', unit: 'ms', better: 'lower', value: (a) => a.latency?.p50 ?? null },
  { id: 'p99', title: 'Latency p99', unit: 'ms', better: 'lower', value: (a) => a.latency?.p99 ?? null },
];

/**
 * The A/B answer first: per headline figure, a bar per arm (length proportional to the value, the arm's
 * colour), its value with unit and, from the second arm on, the ratio to the first arm.
 */
function glance(report: LoadReport): string {
  const first = report.arms[0];
  const blocks = HEADLINES.map((h) => {
    const values = report.arms.map((a) => h.value(a));
    const max = Math.max(0, ...values.map((v) => v ?? 0));
    const base = h.value(first);
    const rows = report.arms
      .map((arm, i) => {
        const v = values[i];
        const width = v === null || max === 0 ? 0 : (100 * v) / max;
        const versus = i > 0 && v !== null && base ? ` <span class="ratio">${escapeHtml(ratio(v / base))}× ${escapeHtml(first.name)}</span>` : '';
        const shown = v === null ? 'no data' : `${v} ${h.unit}`; // as in report.json
        return `<div class="row" data-arm="${escapeHtml(arm.name)}" data-value="${v === null ? '' : escapeHtml(v)}"><span class="name">${escapeHtml(arm.name)}</span><span class="track"><span class="bar" style="width:${width.toFixed(1)}%;background:${armColour(i)}"></span></span><span class="value">${escapeHtml(shown)}${versus}</span></div>`;
      })
      .join('');
    return `<div class="glance-metric" data-metric="${h.id}"><div class="glance-title">${escapeHtml(h.title)} <small>(${escapeHtml(h.unit)}, ${h.better} is better)</small></div>${rows}</div>`;
  }).join('');
  return `<div class="glance">${blocks}</div>`;
}

/** The unit a threshold's actual value is in, from how the threshold was written (thresholds.ts). */
function unitOf(threshold: string): string {
  const metric = threshold.replace(/^[a-z0-9-]+:/, '');
  if (/^(p50|p90|p99|max)/.test(metric)) return ' ms';
  if (/^failures/.test(metric)) return metric.endsWith('%') ? ' %' : '';
  return ' req/s';
}

function thresholdsTable(report: LoadReport): string {
  if (report.thresholds.length === 0) return '<p class="muted">No thresholds (--ensure) were set.</p>';
  const breached = report.thresholds.filter((t) => !t.ok).length;
  const rows = report.thresholds.map((t) => `<tr class="${t.ok ? 'ok' : 'breach'}"><td>${escapeHtml(t.arm)}</td><td><code>${escapeHtml(t.threshold)}</code></td><td>${t.actual === null ? 'no data' : escapeHtml(`${t.actual}${unitOf(t.threshold)}`)}</td><td>${t.ok ? 'holds' : 'BREACHED'}</td></tr>`).join('');
  return `<p class="verdict ${breached ? 'bad' : 'good'}">${breached ? `${breached} threshold check${breached > 1 ? 's' : ''} breached` : 'Every threshold holds'}</p><table class="thresholds"><thead><tr><th>arm</th><th>threshold</th><th>actual</th><th>result</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function cloudwatchCharts(section: CloudWatchSection, report: LoadReport): string {
  const span = windowSpan(report);
  const byLabel = new Map<string, MetricSeries[]>();
  for (const s of section.series) byLabel.set(s.label, [...(byLabel.get(s.label) ?? []), s]);
  const armIndex = (arm?: string) => report.arms.findIndex((a) => a.name === arm);
  // An arm's series is drawn from its arm's start, a shared one (arms that ran together) from the run's.
  const origin = (arm?: string) => Date.parse(report.arms.find((a) => a.name === arm)?.window.start ?? report.window.start);
  const charts = [...byLabel.entries()]
    .map(([label, series]) =>
      chart(
        `cw:${label}`,
        label,
        series[0].stat,
        series.map((s, i) => ({ label: s.arm ?? Object.values(s.dimensions).join(' '), arm: s.arm, colour: s.arm ? armColour(armIndex(s.arm)) : armColour(i + report.arms.length), points: s.points.map((p) => ({ t: Date.parse(p.at) - origin(s.arm), v: p.value })) })),
        span,
      ),
    )
    .join('');
  const notes = section.notes.length ? `<ul class="notes">${section.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : '';
  return `<section><h2>AWS metrics (CloudWatch, ${escapeHtml(section.periodSeconds)} s periods${section.region ? `, ${escapeHtml(section.region)}` : ''})</h2>${notes}<div class="charts">${charts}</div></section>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1180px;color:#1b1f24;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d8dee4;padding-bottom:4px}
.muted,.url{color:#57606a}.url{font-size:12px;font-weight:normal;word-break:break-all}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #d8dee4;vertical-align:top}
thead th{background:#f6f8fa;font-size:12px;text-transform:uppercase;letter-spacing:.02em;color:#57606a}
tr.breach{background:#fff1f0}td.bad{color:#b42318;font-weight:600}.code{display:inline-block;background:#f6f8fa;border-radius:4px;padding:0 4px;margin:1px;font-size:12px}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
.verdict{font-weight:600;font-size:15px;padding:8px 12px;border-radius:6px;display:inline-block}.verdict.good{background:#e6f4ea;color:#1a7f37}.verdict.bad{background:#fff1f0;color:#b42318}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:16px}
.chart{margin:0;border:1px solid #d8dee4;border-radius:8px;padding:10px}.chart figcaption{font-weight:600;margin-bottom:4px}.chart svg.plot{width:100%;height:auto}
.chart text{font-size:11px;fill:#57606a}.grid{stroke:#eaeef2}.axis{stroke:#8c959f}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px}.key{white-space:nowrap}.key svg{vertical-align:middle;margin-right:4px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0}dt{color:#57606a}dd{margin:0}
.empty{color:#57606a;font-style:italic}
.notices{list-style:none;padding:0;margin:12px 0}.notices li{padding:8px 12px;border-radius:6px;margin:4px 0}.notices .hint{background:#fff8c5;color:#4d2d00}.notices .note{background:#ddf4ff;color:#0a3069}
.glance{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:12px 24px}
.glance-metric{border:1px solid #d8dee4;border-radius:8px;padding:10px 12px}.glance-title{font-weight:600;margin-bottom:6px}.glance-title small{font-weight:normal;color:#57606a}
.row{display:grid;grid-template-columns:110px 1fr 190px;align-items:center;gap:8px;margin:3px 0}.name{font-weight:600;overflow:hidden;text-overflow:ellipsis}
.track{background:#f6f8fa;border-radius:3px;height:16px}.bar{display:block;height:16px;border-radius:3px;min-width:1px}
.value{font-variant-numeric:tabular-nums}.ratio{color:#57606a;font-size:12px}
`;

const windowSpan = (report: LoadReport): Span => ({
  from: 0,
  to: 1000 * Math.max(...report.arms.map((a) => a.window.seconds)),
  label: report.options.order === 'mixed' ? 'time from start' : "time from each arm's start",
});

const time = (iso: string) => `<time datetime="${escapeHtml(iso)}">${escapeHtml(iso)}</time>`;

/** The order and the windows: one for a mixed run, each arm's own for a sequential one. */
function orderAndWindows(report: LoadReport): string {
  const o = report.options;
  if (o.order === 'mixed') {
    return `<dt>order</dt><dd data-order="mixed">mixed: each virtual user picks one arm at random, so the arms share the load and the time</dd>
<dt>window</dt><dd data-window="run">${time(report.window.start)} → ${time(report.window.end)} (${escapeHtml(report.window.seconds)} s)</dd>`;
  }
  const windows = report.arms
    .map((a) => `<dt>window of ${escapeHtml(a.name)}</dt><dd data-window="${escapeHtml(a.name)}">${time(a.window.start)} → ${time(a.window.end)} (${escapeHtml(a.window.seconds)} s)</dd>`)
    .join('\n');
  return `<dt>order</dt><dd data-order="sequential">sequential: each arm alone, in the order below, ${escapeHtml(o.cooldown)} s apart</dd>\n${windows}`;
}

/** What to read first: why the run has its order (when the tool chose it, or it goes against the deployment), and each arm's client-error hint. */
function notices(report: LoadReport): string {
  const items = [
    ...(report.options.orderNote ? [`<li class="note" data-note="order">${escapeHtml(report.options.orderNote)}</li>`] : []),
    ...report.arms.filter((a) => a.hint).map((a) => `<li class="hint" data-arm="${escapeHtml(a.name)}">${escapeHtml(a.hint)}</li>`),
  ];
  return items.length ? `<ul class="notices">${items.join('')}</ul>` : '';
}

export function renderHtml(report: LoadReport): string {
  const span = windowSpan(report);
  const latencyKeys: Key[] = [
    ...report.arms.map((a, i) => ({ label: a.name, colour: armColour(i) })),
    { label: 'p50', colour: '#57606a' },
    { label: 'p90', colour: '#57606a', dash: '6 4' },
    { label: 'p99', colour: '#57606a', dash: '2 3' },
  ];
  const o = report.options;
  const runner = o.runner.on === 'local' ? 'this machine' : `${o.runner.on}, ${o.runner.count} workers in ${o.runner.region}`;
  const armNames = report.arms.map((a) => a.name).join(' vs ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Load test: ${escapeHtml(armNames)}</title><style>${CSS}</style></head>
<body>
<h1>Load test: ${escapeHtml(armNames)}</h1>
<dl>
${orderAndWindows(report)}
<dt>load</dt><dd>${escapeHtml(o.rate)} requests/s ${o.order === 'mixed' ? 'over all arms' : 'to each arm in its turn'}${o.ramp ? `, after ${escapeHtml(o.ramp)} s of warm-up` : ''}, for ${escapeHtml(o.duration)} s${o.order === 'mixed' ? '' : ' each'}</dd>
<dt>request</dt><dd><code>GET ${escapeHtml(o.path)}</code>${o.path.includes('{tenant}') ? ` with {tenant} from 0 to ${escapeHtml(o.tenants - 1)}` : ''}</dd>
<dt>generated on</dt><dd>${escapeHtml(runner)}</dd>
</dl>
${notices(report)}
<h2>At a glance</h2>${glance(report)}
<h2>Thresholds</h2>${thresholdsTable(report)}
<h2>Summary</h2>${summaryTable(report)}
<p class="muted">Failures: responses with status ≥ 400 and requests with no response (error codes). Latency: time to first byte from sending the request (connection set-up excluded), over every response, in ms.</p>
<h2>Over time (10-second periods)</h2>
<div class="charts">
${chart('throughput', 'Throughput: successful responses per second', 'req/s', armLines(report, (p) => p.throughput), span)}
${chart('failures', 'Failures per second', 'req/s', armLines(report, (p) => p.failures / p.seconds), span)}
${chart('latency', 'Latency p50 (solid), p90 (dashed), p99 (dotted)', 'ms', [...armLines(report, (p) => p.latency?.p50 ?? null, undefined, ' p50'), ...armLines(report, (p) => p.latency?.p90 ?? null, '6 4', ' p90'), ...armLines(report, (p) => p.latency?.p99 ?? null, '2 3', ' p99')], span, latencyKeys)}
${chart('requests', 'Requests sent per second (the schedule each arm received)', 'req/s', armLines(report, (p) => p.requests / p.seconds), span)}
</div>
${report.cloudwatch ? cloudwatchCharts(report.cloudwatch, report) : ''}
</body></html>
`;
}
