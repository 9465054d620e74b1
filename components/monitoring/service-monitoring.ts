import type { Construct } from 'constructs';
import { dependable } from 'cdktf';
import { LAMBDA_UNRESERVED_CONCURRENCY } from '../../contracts';
import { AlarmTopic } from '../../modules/alarm-topic';
import { Dashboard } from '../../modules/dashboard';
import type { HttpApi } from '../../modules/http-api';
import type { MemcachedCluster } from '../../modules/memcached-cluster';
import { MetricAlarm } from '../../modules/metric-alarm';
import type { MysqlDatabase } from '../../modules/mysql-database';
import type { NodeFunction } from '../../modules/node-function';
import type { RdsProxy } from '../../modules/rds-proxy';
import { PropsError, requireIntIn } from '../../modules/validation';
import type { PruneJob } from '../prune-job';
import { apiAlarms } from './api-alarms';
import { cacheAlarms } from './cache-alarms';
import type { AlarmSpec, ComparedArm, Watched } from './catalogue';
import { dashboardRows } from './dashboard-layout';
import { databaseAlarms } from './database-alarms';
import { functionAlarms } from './function-alarms';
import { proxyAlarms } from './proxy-alarms';
import { pruneAlarms } from './prune-alarms';
import { tenantsAlarms } from './tenants-alarms';

/** What RDS sends to the topic: the events that need a person. */
export const DB_EVENT_CATEGORIES = ['failover', 'failure', 'low storage', 'maintenance'] as const;

export interface ServiceMonitoringProps {
  /** `<project>-<environment>`: the topic is `<prefix>-alarms`, alarms `<prefix>-<alarm>`, the dashboard `<prefix>`. Required. */
  readonly namePrefix: string;
  /** Region of the metrics (the dashboard's widgets name it). Required. */
  readonly region: string;
  /** The HTTP API in front of the hits function. Required. */
  readonly api: HttpApi;
  /** The hits function. Required. */
  readonly hits: NodeFunction;
  /** The proxy arm's tenants function (its metrics namespace set). @default - no tenants: no tenants alarm or row */
  readonly tenants?: NodeFunction;
  /** Required. */
  readonly proxy: RdsProxy;
  /** The proxy's `max_connections_percent`, from which the database's max_connections is read. @default 90 (RdsProxy's default) */
  readonly proxyMaxConnectionsPercent?: number;
  /** Required. Its events (`DB_EVENT_CATEGORIES`) go to the topic. */
  readonly database: MysqlDatabase;
  /** @default - no cache: no cache alarm, graph or row */
  readonly cache?: MemcachedCluster;
  /** Required. */
  readonly prune: PruneJob;
  /** The account's concurrent-executions quota, the hits function's ceiling when it reserves none. @default - unknown: no concurrency alarm unless the function reserves some */
  readonly accountConcurrencyLimit?: number;
  /** Subscribed to the topic by e-mail. @default - no subscription */
  readonly alarmEmail?: string;
  /** Whether alarms notify the topic; off for an environment nobody is paged for. @default true */
  readonly alarmActionsEnabled?: boolean;
  /**
   * The arms of an A/B comparison, the proxy arm first (its API and functions), then the direct arm: the
   * dashboard gets an A/B section comparing them. No alarm watches the direct arm: it is a temporary
   * experiment, read on the dashboard and in the load report. @default - no A/B section
   */
  readonly arms?: readonly ComparedArm[];
}

/**
 * Operating one environment, in the manner of cdk-monitoring-constructs: an encrypted alarm topic
 * (optionally mailed), the database's RDS events to it, the alarm catalogue along the request path
 * (one file per tier beside this one: thresholds and their reasoning), and one dashboard.
 *
 * Not a Construct of its own: its children keep the ids they had in the ops stack (`alarm-topic`,
 * `db-events`, one per alarm, `dashboard`), so their Terraform addresses do not change.
 */
export class ServiceMonitoring {
  readonly topic: AlarmTopic;
  readonly alarms: MetricAlarm[];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, props: ServiceMonitoringProps) {
    const prefix = props.namePrefix;
    const proxyMaxConnectionsPercent = props.proxyMaxConnectionsPercent ?? 90;
    requireIntIn('ServiceMonitoring', 'proxyMaxConnectionsPercent', proxyMaxConnectionsPercent, 1, 100);
    this.topic = new AlarmTopic(scope, 'alarm-topic', { name: `${prefix}-alarms`, email: props.alarmEmail, rdsEventSourcePrefix: prefix });
    const events = props.database.subscribeEvents(scope, 'db-events', { name: `${prefix}-db-events`, snsTopicArn: this.topic.topicArn, categories: DB_EVENT_CATEGORIES });
    // RDS checks nothing when the subscription is created and publishes from then on: not before it may.
    events.dependsOn = [...(events.dependsOn ?? []), ...this.topic.publishPermissions.map(dependable)];

    const hits = props.hits;
    const watched: Watched = {
      api: props.api,
      hits,
      tenants: props.tenants,
      proxy: props.proxy,
      proxyMaxConnectionsPercent,
      database: props.database,
      cache: props.cache,
      prune: props.prune,
      concurrencyCeiling: hits.reservedConcurrency ?? (props.accountConcurrencyLimit === undefined ? undefined : props.accountConcurrencyLimit - LAMBDA_UNRESERVED_CONCURRENCY),
      arms: props.arms,
    };
    if (props.arms && props.arms.length < 2) throw new PropsError('ServiceMonitoring', 'arms', `must name at least two arms to compare, got ${props.arms.length}`);
    if (props.arms?.some((a) => a.functions.length === 0)) throw new PropsError('ServiceMonitoring', 'arms', 'must give every arm at least one function');
    const catalogue: AlarmSpec[] = [
      ...apiAlarms(watched),
      ...functionAlarms(watched),
      ...tenantsAlarms(watched),
      ...proxyAlarms(watched),
      ...databaseAlarms(watched),
      ...cacheAlarms(watched),
      ...pruneAlarms(watched),
    ];
    this.alarms = catalogue.map(({ id, ...spec }) =>
      new MetricAlarm(scope, id, { ...spec, name: `${prefix}-${id}`, actionArns: [this.topic.topicArn], actionsEnabled: props.alarmActionsEnabled ?? true }),
    );
    this.dashboard = new Dashboard(scope, 'dashboard', { name: prefix, region: props.region, rows: dashboardRows(watched) });
  }
}
