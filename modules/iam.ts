/** IAM JSON documents, written literally so scanners and reviewers can read them in the synthesized JSON. */

/** Trust policy letting exactly one AWS service principal (e.g. `rds.amazonaws.com`) assume a role. */
export function assumeRolePolicy(servicePrincipal: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: servicePrincipal }, Action: 'sts:AssumeRole' }],
  });
}

/** An IAM policy document of `statements`, as the JSON string IAM resources take. */
export function policyDocument(statements: readonly object[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}
