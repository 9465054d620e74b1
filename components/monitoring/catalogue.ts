import type { HttpApi } from '../../modules/http-api';
import type { MemcachedCluster } from '../../modules/memcached-cluster';
import type { MetricAlarmProps } from '../../modules/metric-alarm';
import type { MysqlDatabase } from '../../modules/mysql-database';
import type { NodeFunction } from '../../modules/node-function';
import type { RdsProxy } from '../../modules/rds-proxy';
import type { PruneJob } from '../prune-job';

/** One arm of the A/B comparison: its HTTP API, the functions behind it (hits, and tenants when there are tenants) and its database instance. */
export interface ComparedArm {
  /** Shown in legends, e.g. `proxy`, `direct`. */
  readonly label: string;
  readonly api: HttpApi;
  /** The instance its functions' queries end up on (through the proxy or straight); arms may share one. */
  readonly database: MysqlDatabase;
  /** Its functions, each with its legend label (e.g. `hits`, `tenants`). */
  readonly functions: ReadonlyArray<{ readonly label: string; readonly function: NodeFunction }>;
}

/** What one environment's monitoring watches, with the settings its thresholds derive from. */
export interface Watched {
  readonly api: HttpApi;
  readonly hits: NodeFunction;
  /** The proxy arm's tenants function; absent without tenants. */
  readonly tenants?: NodeFunction;
  readonly proxy: RdsProxy;
  /** The proxy's `max_connections_percent`: its pool is this share of the database's max_connections. */
  readonly proxyMaxConnectionsPercent: number;
  readonly database: MysqlDatabase;
  readonly cache?: MemcachedCluster;
  readonly prune: PruneJob;
  /** Concurrency the hits function can reach: its reservation, or the account's unreserved pool; absent when unknown. */
  readonly concurrencyCeiling?: number;
  /** The arms of the A/B comparison (the proxy arm first); absent without the direct arm. */
  readonly arms?: readonly ComparedArm[];
}

/**
 * One alarm of the catalogue: its id (also the alarm name's suffix, `<prefix>-<id>`), what it watches and
 * when it fires. Each spec carries its reasoning beside its threshold; the topic and actions are added by
 * `ServiceMonitoring`, the same for every alarm.
 */
export interface AlarmSpec extends Omit<MetricAlarmProps, 'name' | 'actionArns' | 'actionsEnabled'> {
  readonly id: string;
}

export const GIB = 2 ** 30;
