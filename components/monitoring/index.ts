export { DB_EVENT_CATEGORIES, ServiceMonitoring, type ServiceMonitoringProps } from './service-monitoring';
export type { AlarmSpec, Watched } from './catalogue';
