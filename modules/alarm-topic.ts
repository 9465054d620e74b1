import { Construct } from 'constructs';
import { type ITerraformDependable } from 'cdktf';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { accountId, partition as partitionOf, policyDocument, region as regionOf } from './iam';
import { PropsError, requireIntIn, requireNonEmpty } from './validation';

export interface AlarmTopicProps {
  /** Topic name and prefix of the key alias (`alias/<name>`). Required. */
  readonly name: string;
  /** Whether CloudWatch alarms of this account and region may publish (and use the key). @default true */
  readonly cloudWatchAlarms?: boolean;
  /**
   * RDS event subscriptions may publish for DB instances whose identifier starts with this prefix
   * (`aws:SourceArn` `arn:<partition>:rds:<region>:<account>:db:<prefix>*`). @default - RDS events may not publish
   */
  readonly rdsEventSourcePrefix?: string;
  /** E-mail address subscribed to the topic; AWS mails a confirmation link first. @default - no subscription */
  readonly email?: string;
  /** Days KMS waits before deleting the key after a destroy (7 to 30). @default 30 */
  readonly keyDeletionWindowDays?: number;
}

const MODULE = 'AlarmTopic';
const CLOUDWATCH = 'cloudwatch.amazonaws.com';
const RDS_EVENTS = 'events.rds.amazonaws.com';

/**
 * An SNS topic alarms and service events publish to, encrypted with its own customer-managed KMS key.
 * Not the AWS-managed `aws/sns` key: its policy cannot be changed, so CloudWatch could not use it and
 * alarm notifications to such a topic are silently dropped (CloudWatch User Guide, "Using Amazon CloudWatch
 * alarms": an encrypted topic needs a key policy letting cloudwatch.amazonaws.com kms:Decrypt and
 * kms:GenerateDataKey*). Each publisher gets the confused-deputy condition keys its service is documented
 * to send, and no other: a key the service leaves out never matches, and its notifications are dropped.
 */
export class AlarmTopic extends Construct {
  readonly topicArn: string;
  readonly keyArn: string;
  /**
   * What must exist before a service may publish: the key (its policy is inline) and the topic policy.
   * Whatever starts publishing on creation (an RDS event subscription) depends on these.
   */
  readonly publishPermissions: readonly ITerraformDependable[];

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    const cloudWatchAlarms = props.cloudWatchAlarms ?? true;
    const deletionWindow = props.keyDeletionWindowDays ?? 30;
    requireNonEmpty(MODULE, 'name', props.name);
    if (!/^[A-Za-z0-9_-]{1,200}$/.test(props.name)) throw new PropsError(MODULE, 'name', `must be 1-200 letters, digits, dashes or underscores, got "${props.name}"`);
    if (props.rdsEventSourcePrefix !== undefined && !/^[a-zA-Z][a-zA-Z0-9-]{0,62}$/.test(props.rdsEventSourcePrefix)) {
      throw new PropsError(MODULE, 'rdsEventSourcePrefix', `must start a DB instance identifier (a letter, then letters, digits or dashes), got "${props.rdsEventSourcePrefix}"`);
    }
    if (!cloudWatchAlarms && props.rdsEventSourcePrefix === undefined) throw new PropsError(MODULE, 'cloudWatchAlarms', 'is false and no rdsEventSourcePrefix is given: nothing could publish to the topic');
    if (props.email !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(props.email)) throw new PropsError(MODULE, 'email', `must be an e-mail address, got "${props.email}"`);
    requireIntIn(MODULE, 'keyDeletionWindowDays', deletionWindow, 7, 30);

    const account = accountId(this);
    const partition = partitionOf(this);
    const region = regionOf(this);
    const alarmArns = `arn:${partition}:cloudwatch:${region}:${account}:alarm:*`;
    const keyStatements: object[] = [
      // Without an account statement the key could not be managed (or deleted) by anyone.
      { Sid: 'AccountAdministers', Effect: 'Allow', Principal: { AWS: `arn:${partition}:iam::${account}:root` }, Action: 'kms:*', Resource: '*' },
    ];
    if (cloudWatchAlarms) {
      keyStatements.push({
        Sid: 'CloudWatchAlarmsEncrypt',
        Effect: 'Allow',
        Principal: { Service: CLOUDWATCH },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        // SNS's key policy for AWS event sources scopes the service with aws:SourceArn:
        // https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
        // CloudWatch documents aws:SourceArn (alarm ARNs) and aws:SourceAccount for alarm actions:
        // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html
        Condition: { ArnLike: { 'aws:SourceArn': alarmArns }, StringEquals: { 'aws:SourceAccount': account } },
      });
    }
    if (props.rdsEventSourcePrefix !== undefined) {
      keyStatements.push({
        Sid: 'RdsEventsEncrypt',
        Effect: 'Allow',
        Principal: { Service: RDS_EVENTS },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        // No condition: the RDS User Guide shows this key statement without one, and documents the
        // aws:SourceArn / aws:SourceAccount keys for the topic policy only ("Granting permissions to publish
        // notifications to an Amazon SNS topic",
        // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Events.GrantingPermissions.html).
        // A key RDS does not send would make KMS refuse it and drop every event. The topic policy below
        // still admits only this account's instances.
      });
    }
    const key = new KmsKey(this, 'key', {
      description: `Encrypts the ${props.name} alarm topic`,
      enableKeyRotation: true,
      deletionWindowInDays: deletionWindow,
      policy: policyDocument(keyStatements),
    });
    new KmsAlias(this, 'alias', { name: `alias/${props.name}`, targetKeyId: key.keyId });
    const topic = new SnsTopic(this, 'topic', { name: props.name, kmsMasterKeyId: key.arn });

    const topicStatements: object[] = [];
    if (cloudWatchAlarms) {
      topicStatements.push({
        Sid: 'CloudWatchAlarmsOfThisAccountPublish',
        Effect: 'Allow',
        Principal: { Service: CLOUDWATCH },
        Action: 'sns:Publish',
        Resource: topic.arn,
        // Against the confused deputy: alarms of this account and region only (Notify_Users_Alarm_Changes, above).
        Condition: { ArnLike: { 'aws:SourceArn': alarmArns }, StringEquals: { 'aws:SourceAccount': account } },
      });
    }
    if (props.rdsEventSourcePrefix !== undefined) {
      topicStatements.push({
        Sid: 'RdsEventsOfTheseInstancesPublish',
        Effect: 'Allow',
        Principal: { Service: RDS_EVENTS },
        Action: 'sns:Publish',
        Resource: topic.arn,
        // As the RDS User Guide's topic policy (USER_Events.GrantingPermissions, above): this account's DB instances named <prefix>*.
        Condition: {
          ArnLike: { 'aws:SourceArn': `arn:${partition}:rds:${region}:${account}:db:${props.rdsEventSourcePrefix}*` },
          StringEquals: { 'aws:SourceAccount': account },
        },
      });
    }
    const topicPolicy = new SnsTopicPolicy(this, 'policy', { arn: topic.arn, policy: policyDocument(topicStatements) });
    if (props.email) new SnsTopicSubscription(this, 'email', { topicArn: topic.arn, protocol: 'email', endpoint: props.email });
    this.topicArn = topic.arn;
    this.keyArn = key.arn;
    this.publishPermissions = [key, topicPolicy];
  }
}
