import { isDestructive } from './risks';
import { Change, exitCodeOf, ProviderChange, Report, StackReport } from '../types';

/** Hidden first line: the workflows find and update the one comment that carries it. */
export const COMMENT_MARKER = '<!-- cdktf-review -->';
/** GitHub rejects issue comments longer than this many characters. */
export const GITHUB_COMMENT_LIMIT = 65536;

const ACTION_LABEL: Record<Change['action'], string> = { create: '+ create', update: '~ update', replace: '± replace', delete: '− delete' };

const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function formatValue(v: unknown): string {
  if (v === undefined) return '(none)';
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return code(text.length > 80 ? `${text.slice(0, 77)}…` : text);
}

function count(stack: StackReport, action: Change['action']): number {
  return stack.changes.filter((c) => c.action === action && !c.drift && c.type !== 'output').length;
}

function statusText(stack: StackReport): string {
  if (stack.status === 'error') return '🔴 **error**';
  if (stack.status === 'waiting') return `⏳ waiting for ${(stack.waitingFor ?? []).join(', ') || 'upstream'}`;
  return stack.status;
}

function riskLine(stack: StackReport, c: Change): string {
  const icon = isDestructive(c) ? '🔴' : '⚠️';
  const attrs = c.attributes.length ? ` (${c.attributes.slice(0, 4).map(code).join(', ')}${c.attributes.length > 4 ? ', …' : ''})` : '';
  const code_ = c.notes?.find((n) => n.startsWith('function code changed'));
  return `- ${icon} ${code(stack.stack)} ${c.drift ? 'drift: ' : ''}**${c.action}** ${code(c.address)}${attrs}: ${c.risks.join(', ')}${code_ ? ` (${code_})` : ''}`;
}

/** `provider `aws`: `6.25.0` → `6.66.0`, source `aws` → `hashicorp/aws``: what `terraform init` will install differently. */
function providerChangeText(p: ProviderChange): string {
  const requirement = (r: NonNullable<ProviderChange['before']>) => `${code(r.source)}${r.version ? ` ${code(r.version)}` : ''}`;
  if (!p.before) return `provider ${code(p.name)} added: ${requirement(p.after!)}`;
  if (!p.after) return `provider ${code(p.name)} removed (was ${requirement(p.before)})`;
  const parts: string[] = [];
  if (p.before.version !== p.after.version) parts.push(`${code(p.before.version ?? 'any version')} → ${code(p.after.version ?? 'any version')}`);
  if (p.before.source !== p.after.source) parts.push(`source ${code(p.before.source)} → ${code(p.after.source)}`);
  return `provider ${code(p.name)}: ${parts.join(', ')}`;
}

/** One line per distinct provider change, with the stacks it applies to (an engine switch changes every stack alike). */
function providerLines(report: Report): string[] {
  const stacksByChange = new Map<string, string[]>();
  for (const s of report.stacks) {
    for (const p of s.providers ?? []) {
      const text = providerChangeText(p);
      stacksByChange.set(text, [...(stacksByChange.get(text) ?? []), s.stack]);
    }
  }
  return [...stacksByChange].map(([text, stacks]) => `- ${text} in ${stacks.length === 1 ? 'stack' : `${stacks.length} stacks:`} ${stacks.map(code).join(', ')}`);
}

function detailsBlock(stack: StackReport, withValues: boolean): string {
  const parts = (['replace', 'delete', 'update', 'create'] as const).map((a) => [a, count(stack, a)] as const).filter(([, n]) => n > 0);
  const drift = stack.changes.filter((c) => c.drift).length;
  const summary = `${stack.stack}: ${parts.map(([a, n]) => `${n} ${a}`).join(', ')}${drift ? `, ${drift} drift` : ''}`;
  const lines = [`<details><summary>${summary}</summary>`, '', '| action | address | attributes | risks | notes |', '|---|---|---|---|---|'];
  for (const c of stack.changes) {
    const attrs = c.attributes.slice(0, 6).map(code).join(', ') + (c.attributes.length > 6 ? `, … (${c.attributes.length})` : '');
    lines.push(`| ${c.drift ? 'drift ' : ''}${ACTION_LABEL[c.action]} | ${code(c.address)} | ${cell(attrs)} | ${c.risks.join(', ')} | ${cell((c.notes ?? []).join('; '))} |`);
  }
  if (withValues) {
    const valueLines = stack.changes.flatMap((c) => (c.details ?? []).map((d) => `- ${code(c.address)} ${code(d.path)}: ${formatValue(d.before)} → ${formatValue(d.after)}`));
    if (valueLines.length) lines.push('', ...valueLines);
  }
  lines.push('', '</details>');
  return lines.join('\n');
}

/**
 * The pull-request comment: marker, summary table, every risk line, then `<details>` per stack.
 * Stays under `maxChars`: details lose their values first, then whole stacks; the summary and risks stay.
 */
export function renderMarkdown(report: Report, maxChars = GITHUB_COMMENT_LIMIT - 1536): string {
  const failed = report.stacks.filter((s) => s.status === 'error');
  const waiting = report.stacks.filter((s) => s.status === 'waiting');
  const changed = report.stacks.filter((s) => !['unchanged', 'waiting', 'error'].includes(s.status));
  const destructive = report.stacks.flatMap((s) => s.changes.filter(isDestructive));
  const exit = exitCodeOf(report);
  const counts = [
    failed.length ? `🔴 ${failed.length} of ${report.stacks.length} stacks failed` : '',
    changed.length ? `${changed.length} of ${report.stacks.length} stacks with changes` : '',
    waiting.length ? `${waiting.length} waiting` : '',
    destructive.length ? `🔴 ${destructive.length} replace/delete of stateful resources` : '',
  ].filter(Boolean);
  const head: string[] = [
    COMMENT_MARKER,
    `### Change review (${report.source === 'synth' ? 'synthesized stacks, offline' : 'terraform plan'})${report.title ? `: ${report.title}` : ''}`,
    '',
    exit === 0 ? 'No changes. Every stack matches.' : counts.join(' · '),
    '',
    '| stack | status | create | update | replace | delete | risks |',
    '|---|---|---|---|---|---|---|',
    ...report.stacks.map((s) => {
      const risks = [...new Set(s.changes.flatMap((c) => c.risks))];
      const replace = count(s, 'replace');
      const red = s.changes.some(isDestructive) ? '🔴 ' : '';
      return `| ${s.stack} | ${statusText(s)} | ${count(s, 'create') || ''} | ${count(s, 'update') || ''} | ${replace ? `${red}${replace}` : ''} | ${count(s, 'delete') ? `${s.changes.some((c) => c.action === 'delete' && isDestructive(c)) ? '🔴 ' : ''}${count(s, 'delete')}` : ''} | ${risks.join(', ')} |`;
    }),
  ];
  const riskLines = report.stacks.flatMap((s) => s.changes.filter((c) => c.risks.length > 0).map((c) => riskLine(s, c)));
  // GitHub renders a CAUTION alert in red: https://docs.github.com/en/get-started/writing-on-github/getting-started-with-writing-and-formatting-on-github/basic-writing-and-formatting-syntax#alerts
  const errors = failed.map((s) => `> - 🔴 ${code(s.stack)}: ${cell(s.error ?? 'failed')}`);
  if (errors.length) head.splice(4, 0, '', '> [!CAUTION]', `> **${failed.length} ${failed.length === 1 ? 'stack' : 'stacks'} could not be planned or read: this review is incomplete.**`, '>', ...errors);
  if (riskLines.length) head.push('', `**Risks** (${riskLines.length})`, '', ...riskLines);
  const providers = providerLines(report);
  if (providers.length) head.push('', '**Providers**: `terraform init` installs another provider or version (an existing working directory needs `init -upgrade`)', '', ...providers);
  let text = head.join('\n');
  if (text.length > maxChars) {
    // Last resort: more risk lines than a comment can hold. Keep as many as fit and say so.
    const note = '\n\n… more risk lines than one comment can hold: see the job summary.';
    text = `${text.slice(0, maxChars - note.length).replace(/\n[^\n]*$/, '')}${note}`;
    return text;
  }
  const omitted: string[] = [];
  const blocks: string[] = [];
  for (const s of report.stacks.filter((x) => x.changes.length > 0)) {
    const full = detailsBlock(s, true);
    const budget = maxChars - text.length - blocks.join('\n\n').length - 400;
    if (full.length <= budget) blocks.push(full);
    else {
      const compact = detailsBlock(s, false);
      if (compact.length <= budget) blocks.push(compact);
      else omitted.push(s.stack);
    }
  }
  if (blocks.length) text += `\n\n${blocks.join('\n\n')}`;
  if (omitted.length) text += `\n\nDetails of ${omitted.map(code).join(', ')} left out to stay under GitHub's ${GITHUB_COMMENT_LIMIT}-character comment limit: see the job summary or \`--json\`.`;
  return `${text}\n`;
}
