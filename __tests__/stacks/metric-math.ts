/**
 * A small evaluator of CloudWatch metric math, for the subset the alarms use (numbers, ids, + - * /,
 * comparisons, IF, FILL, MAX, MIN, SUM over [lists]), at one timestamp: each metric id has a value or
 * is missing (undefined). Semantics follow "Using math expressions with CloudWatch metrics": arithmetic on
 * a missing value is missing, FILL replaces a missing value, IF with a missing condition is missing.
 * With it a test can ask what a synthesized alarm does with given metric values, instead of restating
 * the formula that built its threshold.
 */
type Value = number | undefined;
type Node =
  | { kind: 'num'; value: number }
  | { kind: 'id'; name: string }
  | { kind: 'list'; items: Node[] }
  | { kind: 'call'; fn: string; args: Node[] }
  | { kind: 'bin'; op: string; left: Node; right: Node }
  | { kind: 'neg'; arg: Node };

function tokenize(text: string): string[] {
  const tokens = text.match(/\s*(\d+(?:\.\d+)?(?:e[+-]?\d+)?|[A-Za-z_][A-Za-z0-9_]*|>=|<=|==|!=|[-+*/(),<>[\]])/g);
  if (!tokens || tokens.join('').replace(/\s/g, '') !== text.replace(/\s/g, '')) throw new Error(`cannot tokenize metric math "${text}"`);
  return tokens.map((t) => t.trim());
}

export function parseMetricMath(text: string): Node {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i];
  const take = (expected?: string) => {
    const t = tokens[i++];
    if (expected !== undefined && t !== expected) throw new Error(`expected "${expected}" at token ${i} of "${text}", got "${t}"`);
    return t;
  };
  const comparison = (): Node => {
    const left = additive();
    if (['>', '<', '>=', '<=', '==', '!='].includes(peek())) return { kind: 'bin', op: take(), left, right: additive() };
    return left;
  };
  const additive = (): Node => {
    let node = multiplicative();
    while (peek() === '+' || peek() === '-') node = { kind: 'bin', op: take(), left: node, right: multiplicative() };
    return node;
  };
  const multiplicative = (): Node => {
    let node = unary();
    while (peek() === '*' || peek() === '/') node = { kind: 'bin', op: take(), left: node, right: unary() };
    return node;
  };
  const unary = (): Node => (peek() === '-' ? (take(), { kind: 'neg', arg: unary() }) : primary());
  const primary = (): Node => {
    const t = take();
    if (t === undefined) throw new Error(`unexpected end of "${text}"`);
    if (t === '(') {
      const inner = comparison();
      take(')');
      return inner;
    }
    if (t === '[') {
      const items: Node[] = [comparison()];
      while (peek() === ',') (take(), items.push(comparison()));
      take(']');
      return { kind: 'list', items };
    }
    if (/^\d/.test(t)) return { kind: 'num', value: Number(t) };
    if (/^[A-Za-z_]/.test(t)) {
      if (peek() !== '(') return { kind: 'id', name: t };
      take('(');
      const args: Node[] = [comparison()];
      while (peek() === ',') (take(), args.push(comparison()));
      take(')');
      return { kind: 'call', fn: t.toUpperCase(), args };
    }
    throw new Error(`unexpected "${t}" in "${text}"`);
  };
  const node = comparison();
  if (i !== tokens.length) throw new Error(`trailing "${tokens.slice(i).join(' ')}" in "${text}"`);
  return node;
}

/** The metric ids an expression reads. */
export function idsOf(node: Node): string[] {
  switch (node.kind) {
    case 'id': return [node.name];
    case 'list': return node.items.flatMap(idsOf);
    case 'call': return node.args.flatMap(idsOf);
    case 'bin': return [...idsOf(node.left), ...idsOf(node.right)];
    case 'neg': return idsOf(node.arg);
    default: return [];
  }
}

function evaluate(node: Node, values: Readonly<Record<string, Value>>): Value | Value[] {
  const scalar = (n: Node): Value => {
    const v = evaluate(n, values);
    if (Array.isArray(v)) throw new Error('a list where a value is expected');
    return v;
  };
  switch (node.kind) {
    case 'num': return node.value;
    case 'id':
      if (!(node.name in values)) throw new Error(`no value given for metric id "${node.name}"`);
      return values[node.name];
    case 'list': return node.items.map(scalar);
    case 'neg': {
      const v = scalar(node.arg);
      return v === undefined ? undefined : -v;
    }
    case 'bin': {
      const [a, b] = [scalar(node.left), scalar(node.right)];
      if (a === undefined || b === undefined) return undefined;
      switch (node.op) {
        case '+': return a + b;
        case '-': return a - b;
        case '*': return a * b;
        case '/': return b === 0 ? undefined : a / b;
        case '>': return a > b ? 1 : 0;
        case '<': return a < b ? 1 : 0;
        case '>=': return a >= b ? 1 : 0;
        case '<=': return a <= b ? 1 : 0;
        case '==': return a === b ? 1 : 0;
        default: return a !== b ? 1 : 0;
      }
    }
    case 'call': {
      if (node.fn === 'IF') {
        const condition = scalar(node.args[0]);
        if (condition === undefined) return undefined;
        return condition !== 0 ? scalar(node.args[1]) : scalar(node.args[2]);
      }
      if (node.fn === 'FILL') {
        const v = scalar(node.args[0]);
        return v === undefined ? scalar(node.args[1]) : v;
      }
      const list = evaluate(node.args[0], values);
      const present = (Array.isArray(list) ? list : [list]).filter((v): v is number => v !== undefined);
      if (present.length === 0) return undefined;
      if (node.fn === 'MAX') return Math.max(...present);
      if (node.fn === 'MIN') return Math.min(...present);
      if (node.fn === 'SUM') return present.reduce((s, v) => s + v, 0);
      throw new Error(`metric math function ${node.fn} is not modelled here`);
    }
  }
}

/** The value a synthesized alarm (`aws_cloudwatch_metric_alarm` JSON) evaluates for one period's metric values; undefined when missing. */
export function alarmValue(alarm: any, values: Readonly<Record<string, Value>>): Value {
  const returned = (alarm.metric_query ?? []).filter((q: any) => q.return_data);
  if (returned.length !== 1) throw new Error(`alarm ${alarm.alarm_name} returns ${returned.length} series`);
  const [q] = returned;
  if (q.expression) {
    const v = evaluate(parseMetricMath(q.expression), values);
    if (Array.isArray(v)) throw new Error(`alarm ${alarm.alarm_name}: the expression is a list`);
    return v;
  }
  return values[q.id];
}

/** Whether one period with these metric values breaches the alarm's threshold; undefined when the period is missing. */
export function breaches(alarm: any, values: Readonly<Record<string, Value>>): boolean | undefined {
  const v = alarmValue(alarm, values);
  if (v === undefined) return undefined;
  switch (alarm.comparison_operator) {
    case 'GreaterThanThreshold': return v > alarm.threshold;
    case 'GreaterThanOrEqualToThreshold': return v >= alarm.threshold;
    case 'LessThanThreshold': return v < alarm.threshold;
    case 'LessThanOrEqualToThreshold': return v <= alarm.threshold;
    default: throw new Error(`unknown comparison ${alarm.comparison_operator}`);
  }
}

/** Every division in an expression, as the metric ids of its dividend and of its divisor. */
export function divisions(node: Node): Array<{ dividend: string[]; divisor: string[] }> {
  switch (node.kind) {
    case 'bin': {
      const inner = [...divisions(node.left), ...divisions(node.right)];
      return node.op === '/' ? [{ dividend: idsOf(node.left), divisor: idsOf(node.right) }, ...inner] : inner;
    }
    case 'list': return node.items.flatMap(divisions);
    case 'call': return node.args.flatMap(divisions);
    case 'neg': return divisions(node.arg);
    default: return [];
  }
}

/**
 * Whether the alarm is in ALARM after these consecutive periods (oldest first), as CloudWatch decides it:
 * among the last `evaluation_periods`, at least `datapoints_to_alarm` breach, a missing period counting as
 * `treat_missing_data` says ("M out of N",
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html). Only
 * `notBreaching` and `breaching` are modelled: `ignore` and `missing` depend on the state before.
 */
export function inAlarmAfter(alarm: any, periods: ReadonlyArray<Readonly<Record<string, Value>>>): boolean {
  const n = alarm.evaluation_periods;
  const m = alarm.datapoints_to_alarm ?? n;
  if (periods.length < n) throw new Error(`alarm ${alarm.alarm_name} evaluates ${n} periods, ${periods.length} given`);
  if (!['notBreaching', 'breaching'].includes(alarm.treat_missing_data)) throw new Error(`treat_missing_data ${alarm.treat_missing_data} is not modelled`);
  const breaching = periods.slice(-n).filter((values) => breaches(alarm, values) ?? alarm.treat_missing_data === 'breaching').length;
  return breaching >= m;
}
