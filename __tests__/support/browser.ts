/**
 * A real browser for the end-to-end tier: Debian's Chromium (`apt-get install chromium`; .ci/run installs
 * it), driven by playwright-core, which downloads no browser of its own. CHROMIUM_PATH names another binary.
 * https://playwright.dev/docs/api/class-browsertype#browser-type-launch-option-executable-path
 */
import { existsSync, mkdirSync } from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { tmpdir } from 'os';
import * as path from 'path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Where tests keep what a person would look at after a run (screenshots): TEST_ARTIFACTS_DIR, or a folder in the temp dir. */
export function artifactsDir(): string {
  const dir = process.env.TEST_ARTIFACTS_DIR || path.join(tmpdir(), 'hits-test-artifacts');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: install Debian's package (apt-get install chromium; .ci/run does) or set CHROMIUM_PATH`);
  }
  // Chromium refuses to start its sandbox as root (CI containers); as any other user it keeps it.
  const args = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args });
}

export interface Forwarded {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

/**
 * An HTTP forwarder on a free loopback port that passes every request to 127.0.0.1:`target` and records
 * what passed: a browser pointed at it shows what the target serves, and the record shows what the
 * browser asked for on its own (its favicon request), which the browser's own API does not report.
 */
export class RecordingForwarder {
  readonly seen: Forwarded[] = [];
  private readonly server: http.Server;

  private constructor(target: number) {
    this.server = http.createServer((req, res) => {
      // No keep-alive upstream: nothing stays connected to the target once its answer is passed on.
      const upstream = http.request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers, agent: false }, (answer) => {
        this.seen.push({ method: req.method ?? '', path: req.url ?? '', status: answer.statusCode ?? 0 });
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.writeHead(502).end());
      req.pipe(upstream);
    });
  }

  static async start(target: number): Promise<RecordingForwarder> {
    const forwarder = new RecordingForwarder(target);
    await new Promise<void>((resolve) => forwarder.server.listen(0, '127.0.0.1', resolve));
    return forwarder;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
