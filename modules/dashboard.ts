import { Construct } from 'constructs';
import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import type { Metric } from './metric';
import { PropsError, requireNonEmpty, requireNonEmptyList } from './validation';

export interface DashboardGraph {
  readonly title: string;
  readonly metrics: readonly Metric[];
  /** Horizontal lines (e.g. an alarm threshold), by label. @default none */
  readonly annotations?: ReadonlyArray<{ label: string; value: number }>;
}

export interface DashboardRow {
  /** Shown as a full-width heading above the row's graphs. */
  readonly title: string;
  /** One to four graphs side by side. */
  readonly graphs: readonly DashboardGraph[];
}

export interface DashboardProps {
  /** Dashboard name. Required. */
  readonly name: string;
  /** Region the metrics are in. Required. */
  readonly region: string;
  /** Rows from top to bottom. Required. */
  readonly rows: readonly DashboardRow[];
}

const MODULE = 'Dashboard';
const GRID_WIDTH = 24;
const GRAPH_HEIGHT = 6;

/** One metric line of a graph widget: `[namespace, name, dim, value, …, { stat, period, label }]`. */
function widgetMetric(m: Metric): unknown[] {
  return [m.namespace, m.metricName, ...Object.entries(m.dimensions).flat(), { stat: m.statistic, period: m.periodSeconds, label: m.label ?? m.metricName }];
}

/** The dashboard body: rows of graphs on CloudWatch's 24-column grid, each row under a text heading. */
export function dashboardBody(region: string, rows: readonly DashboardRow[]): { widgets: object[] } {
  const widgets: object[] = [];
  let y = 0;
  for (const row of rows) {
    widgets.push({ type: 'text', x: 0, y, width: GRID_WIDTH, height: 1, properties: { markdown: `## ${row.title}` } });
    y += 1;
    const width = Math.floor(GRID_WIDTH / row.graphs.length);
    row.graphs.forEach((g, i) => {
      widgets.push({
        type: 'metric',
        x: i * width,
        y,
        width,
        height: GRAPH_HEIGHT,
        properties: {
          title: g.title,
          region,
          view: 'timeSeries',
          stacked: false,
          metrics: g.metrics.map(widgetMetric),
          ...(g.annotations?.length ? { annotations: { horizontal: g.annotations.map((a) => ({ label: a.label, value: a.value })) } } : {}),
        },
      });
    });
    y += GRAPH_HEIGHT;
  }
  return { widgets };
}

/** One CloudWatch dashboard, laid out as rows that follow a request from the edge to the data. */
export class Dashboard extends Construct {
  readonly dashboardName: string;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    requireNonEmpty(MODULE, 'name', props.name);
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(props.name)) throw new PropsError(MODULE, 'name', `must be 1-255 letters, digits, dashes or underscores, got "${props.name}"`);
    requireNonEmpty(MODULE, 'region', props.region);
    requireNonEmptyList(MODULE, 'rows', props.rows);
    for (const row of props.rows) {
      if (row.graphs.length < 1 || row.graphs.length > 4) throw new PropsError(MODULE, 'rows', `"${row.title}" must hold 1 to 4 graphs, got ${row.graphs.length}`);
      const empty = row.graphs.find((g) => g.metrics.length === 0);
      if (empty) throw new PropsError(MODULE, 'rows', `graph "${empty.title}" has no metric`);
    }
    const dashboard = new CloudwatchDashboard(this, 'dashboard', { dashboardName: props.name, dashboardBody: JSON.stringify(dashboardBody(props.region, props.rows)) });
    this.dashboardName = dashboard.dashboardName;
  }
}
