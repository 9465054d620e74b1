/** AWS facts that the profile schema, the functions and the tools share. */

/**
 * An AWS region name: `eu-west-1`, `us-gov-west-1`, `ap-southeast-5`
 * (https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html).
 */
export const AWS_REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** An availability zone of such a region: the region name and one letter. */
export const AWS_AVAILABILITY_ZONE_PATTERN = new RegExp(`${AWS_REGION_PATTERN.source.slice(0, -1)}[a-z]$`);

/**
 * Concurrent executions Lambda keeps unreserved in every account and region: reserving leaves at least this
 * many to every other function (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
 */
export const LAMBDA_UNRESERVED_CONCURRENCY = 100;

/**
 * CloudWatch's standard-resolution period: API Gateway, Lambda and RDS publish per minute, and an alarm's or
 * a query's period is this or a multiple of it (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#CloudWatchPeriods).
 */
export const CLOUDWATCH_PERIOD_SECONDS = 60;
