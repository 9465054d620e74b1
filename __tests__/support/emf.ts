/**
 * Embedded Metric Format, as the functions write it in their request lines: the specification's structural
 * rules (checked independently of Powertools' own output) and the metrics of one line.
 */

export type Line = Record<string, any>;

/**
 * The EMF specification's structural rules (CloudWatch "Embedded metric format specification"): `_aws`
 * with an integer Timestamp and a CloudWatchMetrics array; each directive a Namespace, Dimensions (arrays
 * of at most 30 names, each a string member of the root) and Metrics (each Name a numeric member of the root).
 * Returns the problems found.
 */
export function emfProblems(line: Line): string[] {
  const problems: string[] = [];
  const aws = line._aws;
  if (!aws || typeof aws !== 'object') return ['no _aws member'];
  if (!Number.isInteger(aws.Timestamp)) problems.push('Timestamp is not an integer (epoch ms)');
  if (!Array.isArray(aws.CloudWatchMetrics) || aws.CloudWatchMetrics.length === 0) return [...problems, 'CloudWatchMetrics is not a non-empty array'];
  for (const d of aws.CloudWatchMetrics) {
    if (typeof d.Namespace !== 'string' || d.Namespace.length === 0) problems.push('directive without a Namespace');
    for (const set of d.Dimensions ?? []) {
      if (!Array.isArray(set) || set.length > 30) problems.push(`dimension set ${JSON.stringify(set)} is not an array of at most 30 names`);
      for (const name of set) if (typeof line[name] !== 'string') problems.push(`dimension ${name} has no string value at the root`);
    }
    for (const m of d.Metrics ?? []) {
      if (typeof line[m.Name] !== 'number' || !Number.isFinite(line[m.Name])) problems.push(`metric ${m.Name} has no numeric value at the root`);
      if (m.Unit !== undefined && !['Count', 'Milliseconds'].includes(m.Unit)) problems.push(`metric ${m.Name} has unexpected unit ${m.Unit}`);
    }
  }
  return problems;
}

/** Metric name -> value of a request line, with its dimension sets. */
export function metricsOf(line: Line): { names: string[]; values: Record<string, number>; dimensions: string[][]; namespace: string } {
  const d = line._aws.CloudWatchMetrics[0];
  const names = d.Metrics.map((m: { Name: string }) => m.Name);
  return { names, values: Object.fromEntries(names.map((n: string) => [n, line[n]])), dimensions: d.Dimensions, namespace: d.Namespace };
}
