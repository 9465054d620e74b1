/**
 * Jest global setup of the fast tier: a directory for this run's synthesized environments (support/synth.ts),
 * so each set of profiles is synthesized once per run, by the first suite that needs it, not once per suite.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SYNTH_DIR_VARIABLE } from './synth';

export default function globalSetup(): void {
  // Workers start after this and inherit the variable; a directory an outer run passed down is replaced, not shared.
  process.env[SYNTH_DIR_VARIABLE] = fs.mkdtempSync(path.join(os.tmpdir(), 'hits-test-synth-'));
}
