/** The metric-math evaluator the alarm tests rely on: CloudWatch's rules for missing data, precedence, and what it refuses. */
import { alarmValue, breaches, divisions, inAlarmAfter, parseMetricMath } from './metric-math';

const alarm = (expression: string, threshold = 0, comparison = 'GreaterThanThreshold') => ({
  alarm_name: 'a',
  threshold,
  comparison_operator: comparison,
  metric_query: [{ id: 'result', expression, return_data: true }],
});

test('precedence and parentheses', () => {
  expect(alarmValue(alarm('1 + 2 * 3'), {})).toBe(7);
  expect(alarmValue(alarm('(1 + 2) * 3'), {})).toBe(9);
  expect(alarmValue(alarm('100 * a / (a + b)'), { a: 1, b: 3 })).toBe(25);
});

test('a missing value makes the result missing, FILL replaces it, IF chooses', () => {
  expect(alarmValue(alarm('a + b'), { a: 1, b: undefined })).toBeUndefined();
  expect(alarmValue(alarm('FILL(b, 5) + a'), { a: 1, b: undefined })).toBe(6);
  expect(alarmValue(alarm('IF(a > 0, 10 / a, 0)'), { a: 0 })).toBe(0);
  expect(alarmValue(alarm('IF(a > 0, 10 / a, 0)'), { a: 4 })).toBe(2.5);
  expect(alarmValue(alarm('MAX([a, b, c])'), { a: 1, b: undefined, c: 3 })).toBe(3);
  expect(alarmValue(alarm('SUM([FILL(a, 0), b])'), { a: undefined, b: 2 })).toBe(2);
});

test('comparisons against the threshold; a missing period is neither', () => {
  expect(breaches(alarm('a', 10), { a: 11 })).toBe(true);
  expect(breaches(alarm('a', 10), { a: 10 })).toBe(false);
  expect(breaches(alarm('a', 10, 'LessThanThreshold'), { a: 9 })).toBe(true);
  expect(breaches(alarm('a', 10), { a: undefined })).toBeUndefined();
});

test('divisions name their dividend and divisor ids', () => {
  expect(divisions(parseMetricMath('IF(allowed > 0, 100 * connections / allowed, 0)'))).toEqual([{ dividend: ['connections'], divisor: ['allowed'] }]);
  expect(divisions(parseMetricMath('MAX([a, b])'))).toEqual([]);
});

test('refuses what it cannot read, and ids it was given no value for', () => {
  expect(() => parseMetricMath('a $ b')).toThrow(/cannot tokenize/);
  expect(() => parseMetricMath('(a + b')).toThrow(/expected "\)"/);
  expect(() => alarmValue(alarm('a + c'), { a: 1 })).toThrow(/no value given for metric id "c"/);
});

test('M out of N: enough breaching periods among the last N raise the alarm; a missing period counts as treat_missing_data says', () => {
  const threeOfFive = (missing: string) => ({ ...alarm('a', 10), evaluation_periods: 5, datapoints_to_alarm: 3, treat_missing_data: missing });
  const [high, low, none] = [{ a: 11 }, { a: 1 }, { a: undefined }];
  expect(inAlarmAfter(threeOfFive('notBreaching'), [high, low, high, low, high])).toBe(true);
  expect(inAlarmAfter(threeOfFive('notBreaching'), [high, low, none, low, high])).toBe(false);
  expect(inAlarmAfter(threeOfFive('breaching'), [high, low, none, low, high])).toBe(true);
  // Only the last N count: older breaches are out of the window.
  expect(inAlarmAfter(threeOfFive('notBreaching'), [high, high, high, low, low, low, low, low])).toBe(false);
  expect(() => inAlarmAfter(threeOfFive('notBreaching'), [high])).toThrow(/evaluates 5 periods/);
  expect(() => inAlarmAfter(threeOfFive('ignore'), [high, high, high, high, high])).toThrow(/not modelled/);
});
