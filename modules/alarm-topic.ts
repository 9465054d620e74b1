import { Construct } from 'constructs';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { accountId, policyDocument } from './iam';
import { PropsError, requireIntIn, requireNonEmpty, requireNonEmptyList } from './validation';

export interface AlarmTopicProps {
  /** Topic name and prefix of the key alias (`alias/<name>`). Required. */
  readonly name: string;
  /** Service principals that publish to the topic and may use its key. @default ['cloudwatch.amazonaws.com', 'events.rds.amazonaws.com'] */
  readonly publishers?: readonly string[];
  /** E-mail address subscribed to the topic; AWS mails a confirmation link first. @default - no subscription */
  readonly email?: string;
  /** Days KMS waits before deleting the key after a destroy (7 to 30). @default 30 */
  readonly keyDeletionWindowDays?: number;
}

const MODULE = 'AlarmTopic';

/**
 * An SNS topic alarms and service events publish to, encrypted with its own customer-managed KMS key.
 * Not the AWS-managed `aws/sns` key: its policy cannot be changed, so CloudWatch could not use it and
 * alarm notifications to such a topic are silently dropped (CloudWatch User Guide, "Using Amazon CloudWatch
 * alarms": an encrypted topic needs a key policy letting cloudwatch.amazonaws.com kms:Decrypt and
 * kms:GenerateDataKey*). The topic policy lets only the publishers of this account publish.
 */
export class AlarmTopic extends Construct {
  readonly topicArn: string;
  readonly keyArn: string;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    const publishers = props.publishers ?? ['cloudwatch.amazonaws.com', 'events.rds.amazonaws.com'];
    const deletionWindow = props.keyDeletionWindowDays ?? 30;
    requireNonEmpty(MODULE, 'name', props.name);
    if (!/^[A-Za-z0-9_-]{1,200}$/.test(props.name)) throw new PropsError(MODULE, 'name', `must be 1-200 letters, digits, dashes or underscores, got "${props.name}"`);
    requireNonEmptyList(MODULE, 'publishers', publishers);
    const badPublisher = publishers.find((p) => !/^[a-z0-9.-]+\.amazonaws\.com$/.test(p));
    if (badPublisher) throw new PropsError(MODULE, 'publishers', `must be AWS service principals such as "cloudwatch.amazonaws.com", got "${badPublisher}"`);
    if (props.email !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(props.email)) throw new PropsError(MODULE, 'email', `must be an e-mail address, got "${props.email}"`);
    requireIntIn(MODULE, 'keyDeletionWindowDays', deletionWindow, 7, 30);

    const account = accountId(this);
    const key = new KmsKey(this, 'key', {
      description: `Encrypts the ${props.name} alarm topic`,
      enableKeyRotation: true,
      deletionWindowInDays: deletionWindow,
      policy: policyDocument([
        // Without an account statement the key could not be managed (or deleted) by anyone.
        { Sid: 'AccountAdministers', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' },
        { Sid: 'PublishersEncrypt', Effect: 'Allow', Principal: { Service: [...publishers] }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: '*' },
      ]),
    });
    new KmsAlias(this, 'alias', { name: `alias/${props.name}`, targetKeyId: key.keyId });
    const topic = new SnsTopic(this, 'topic', { name: props.name, kmsMasterKeyId: key.arn });
    new SnsTopicPolicy(this, 'policy', {
      arn: topic.arn,
      policy: policyDocument([
        {
          Sid: 'ServicesOfThisAccountPublish',
          Effect: 'Allow',
          Principal: { Service: [...publishers] },
          Action: 'sns:Publish',
          Resource: topic.arn,
          // Against the confused deputy: only alarms and events of this account.
          Condition: { StringEquals: { 'aws:SourceAccount': account } },
        },
      ]),
    });
    if (props.email) new SnsTopicSubscription(this, 'email', { topicArn: topic.arn, protocol: 'email', endpoint: props.email });
    this.topicArn = topic.arn;
    this.keyArn = key.arn;
  }
}
