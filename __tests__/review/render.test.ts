import { deployOrder } from '../../tools/review/lib/manifest';
import { COMMENT_MARKER, GITHUB_COMMENT_LIMIT, renderMarkdown } from '../../tools/review/lib/render';
import { risksOf } from '../../tools/review/lib/risks';
import { Change, exitCodeOf, Report, toJson } from '../../tools/review/types';

function bigReport(stacks: number, changesPerStack: number, riskyEvery: number): Report {
  return {
    source: 'plan',
    stacks: Array.from({ length: stacks }, (_, s) => ({
      stack: `stack-${s}`,
      status: 'changed' as const,
      changes: Array.from({ length: changesPerStack }, (_, i): Change => {
        const risky = i % riskyEvery === 0;
        return {
          address: `${risky ? 'aws_db_instance' : 'aws_route'}.resource_${s}_${i}`,
          type: risky ? 'aws_db_instance' : 'aws_route',
          action: risky ? 'replace' : 'update',
          attributes: ['some_attribute'],
          risks: risky ? ['data-loss'] : [],
          details: [{ path: 'some_attribute', before: 'x'.repeat(200), after: 'y'.repeat(200) }],
        };
      }),
    })),
  };
}

describe('Markdown comment', () => {
  it('starts with the hidden marker the workflows look for', () => {
    expect(renderMarkdown({ source: 'synth', stacks: [] }).split('\n')[0]).toBe(COMMENT_MARKER);
  });

  it('stays under GitHub’s limit by dropping details, keeping the summary row of every stack and every risk line', () => {
    const report = bigReport(12, 400, 50);
    const text = renderMarkdown(report);
    expect(text.length).toBeLessThan(GITHUB_COMMENT_LIMIT);
    for (const s of report.stacks) expect(text).toContain(`| ${s.stack} | changed |`);
    const risky = report.stacks.flatMap((s) => s.changes.filter((c) => c.risks.length));
    for (const c of risky) expect(text).toContain(`**replace** \`${c.address}\``);
    expect(text).toMatch(/left out to stay under GitHub's 65536-character comment limit/);
  });

  it('shows a failed stack as an error in red, counted, never as "No changes"', () => {
    const report: Report = { source: 'plan', stacks: [{ stack: 'a', status: 'unchanged', changes: [] }, { stack: 'b', status: 'error', changes: [], error: 'terraform init failed: no backend' }] };
    const text = renderMarkdown(report);
    expect(text).not.toContain('No changes');
    expect(text).toContain('🔴 1 of 2 stacks failed');
    expect(text).toContain('| b | 🔴 **error** |');
    expect(text).toContain('> [!CAUTION]');
    expect(text).toContain('> - 🔴 `b`: terraform init failed: no backend');
    expect(toJson(report)).toEqual({ source: 'plan', stacks: [expect.objectContaining({ stack: 'a', status: 'unchanged' }), { stack: 'b', status: 'error', error: 'terraform init failed: no backend', changes: [] }] });
  });

  it('keeps every detail when it fits', () => {
    const report = bigReport(2, 3, 2);
    const text = renderMarkdown(report);
    expect(text).not.toMatch(/left out/);
    expect(text.match(/<details>/g)).toHaveLength(2);
    expect(text).toContain('y'.repeat(10));
  });
});

describe('risk tags', () => {
  it('marks replacing or deleting stateful resources as data loss, and not creating them', () => {
    expect(risksOf('aws_db_instance', 'replace', ['db_name'])).toContain('data-loss');
    expect(risksOf('aws_cloudwatch_log_group', 'delete', [])).toContain('data-loss');
    expect(risksOf('aws_secretsmanager_secret', 'delete', [])).toContain('data-loss');
    expect(risksOf('aws_db_instance', 'create', [])).not.toContain('data-loss');
  });

  it('tags security, availability and cost by the attributes that change', () => {
    expect(risksOf('aws_db_proxy', 'update', ['require_tls'])).toEqual(['security']);
    expect(risksOf('aws_db_proxy', 'update', ['auth[0].iam_auth'])).toEqual(['security']);
    expect(risksOf('aws_iam_role_policy', 'update', ['policy'])).toEqual(['security']);
    expect(risksOf('aws_db_instance', 'update', ['multi_az'])).toEqual(['availability']);
    expect(risksOf('aws_lambda_function', 'update', ['reserved_concurrent_executions'])).toEqual(['availability']);
    expect(risksOf('aws_elasticache_cluster', 'update', ['num_cache_nodes'])).toEqual(['cost']);
    expect(risksOf('aws_nat_gateway', 'delete', [])).toEqual(['availability', 'cost']);
    expect(risksOf('aws_db_parameter_group', 'update', ['parameter[0].value'], [{ name: 'require_secure_transport', value: '1' }])).toEqual(['security']);
    expect(risksOf('aws_route_table', 'update', ['tags.Name'])).toEqual([]);
  });
});

describe('exit code and order', () => {
  it('follows terraform plan -detailed-exitcode', () => {
    expect(exitCodeOf({ source: 'plan', stacks: [{ stack: 'a', status: 'unchanged', changes: [] }] })).toBe(0);
    expect(exitCodeOf({ source: 'plan', stacks: [{ stack: 'a', status: 'waiting', waitingFor: ['b'], changes: [] }] })).toBe(2);
    expect(exitCodeOf({ source: 'plan', stacks: [{ stack: 'a', status: 'unchanged', changes: [], error: 'boom' }] })).toBe(1);
    expect(exitCodeOf({ source: 'plan', stacks: [{ stack: 'a', status: 'changed', changes: [] }, { stack: 'b', status: 'error', changes: [], error: 'boom' }] })).toBe(1);
  });

  it('orders stacks after their dependencies, whatever the names', () => {
    const order = deployOrder(new Map([
      ['a-api', { dependencies: ['z-data', 'm-net'] }],
      ['z-data', { dependencies: ['m-net'] }],
      ['m-net', { dependencies: [] }],
    ]));
    expect(order).toEqual(['m-net', 'z-data', 'a-api']);
    expect(() => deployOrder(new Map([['x', { dependencies: ['y'] }], ['y', { dependencies: ['x'] }]]))).toThrow(/cycle/);
  });
});
