/**
 * A small memcached client for cache-aside reads (text protocol: get / set / version).
 *
 * Why our own: the function needs TLS (ElastiCache in-transit encryption), consistent hashing across
 * nodes, a hard per-call bound well under 200 ms and a back-off. memjs has no TLS. memcache-client
 * (https://www.npmjs.com/package/memcache-client), tried against this project's cache tests with one client
 * per node behind the ring below: its TLS and its `cmdTimeout` work, but its published versions (1.0.5,
 * the `latest` tag, and 1.0.2) have no key-to-server hashing (a command goes to a random server), so the
 * ring, the back-off and an outer timer (its timeout is polled on an interval) would stay here anyway,
 * for about 44 KB of bundle and four more dependencies. What is left to hand-write is the connection
 * below (about 150 lines), which adds nothing to the bundle.
 *
 * Contract: no method ever rejects. A failed or slow call resolves as a miss / no-op and the failure
 * is reported through `onError`, so the cache can never fail a request.
 */
import { createHash } from 'crypto';
import * as net from 'net';
import * as tls from 'tls';
import type { CacheNode } from './config';

export interface CacheOptions {
  readonly nodes: readonly CacheNode[];
  readonly tls: boolean;
  /** Upper bound of one call (connect included), in milliseconds. */
  readonly timeoutMs: number;
  /** Extra trusted CA (PEM) for TLS. */
  readonly ca?: string;
  /** Consecutive failures of a node before it is skipped for `backoffMs`. Default 3. */
  readonly failureThreshold?: number;
  /** How long a failing node is skipped. Default 5000 ms. */
  readonly backoffMs?: number;
  readonly onError?: (node: string, op: string, err: Error) => void;
  readonly onBackoff?: (node: string, until: number) => void;
}

export type CacheHealth = 'ok' | 'off' | 'degraded';

// ---------------------------------------------------------------------------------------------
// Consistent hashing

const VIRTUAL_POINTS = 160;

function hash32(s: string): number {
  return createHash('md5').update(s).digest().readUInt32BE(0);
}

/** A consistent-hash ring (ketama-like): removing a node only moves the keys that node owned. */
export class HashRing {
  private readonly points: Array<{ at: number; node: string }>;

  constructor(nodes: readonly string[]) {
    this.points = [];
    for (const node of nodes) {
      for (let i = 0; i < VIRTUAL_POINTS; i++) this.points.push({ at: hash32(`${node}#${i}`), node });
    }
    this.points.sort((a, b) => a.at - b.at || (a.node < b.node ? -1 : 1));
  }

  nodeFor(key: string): string {
    if (this.points.length === 0) throw new Error('empty hash ring');
    const h = hash32(key);
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid].at < h) lo = mid + 1;
      else hi = mid;
    }
    return this.points[lo === this.points.length ? 0 : lo].node;
  }
}

// ---------------------------------------------------------------------------------------------
// One connection per node, requests pipelined in order

class CacheTimeout extends Error {
  readonly code = 'CACHE_TIMEOUT';
}

type Parser = (buf: Buffer) => { consumed: number; value: unknown } | undefined;

interface Pending {
  parse: Parser;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

const CRLF = Buffer.from('\r\n');

function line(buf: Buffer): { text: string; end: number } | undefined {
  const i = buf.indexOf(CRLF);
  return i < 0 ? undefined : { text: buf.toString('latin1', 0, i), end: i + 2 };
}

function serverError(text: string): Error | undefined {
  if (text === 'ERROR' || text.startsWith('CLIENT_ERROR') || text.startsWith('SERVER_ERROR')) {
    return new Error(`memcached: ${text}`);
  }
  return undefined;
}

const parseGet: Parser = (buf) => {
  const first = line(buf);
  if (!first) return undefined;
  if (first.text === 'END') return { consumed: first.end, value: undefined };
  const err = serverError(first.text);
  if (err) return { consumed: first.end, value: err };
  const m = /^VALUE \S+ \d+ (\d+)/.exec(first.text);
  if (!m) return { consumed: buf.length, value: new Error(`memcached: unexpected reply "${first.text.slice(0, 40)}"`) };
  const size = Number(m[1]);
  const total = first.end + size + 2 + 5; // data CRLF "END" CRLF
  if (buf.length < total) return undefined;
  return { consumed: total, value: Buffer.from(buf.subarray(first.end, first.end + size)) };
};

const parseLine: Parser = (buf) => {
  const l = line(buf);
  if (!l) return undefined;
  return { consumed: l.end, value: serverError(l.text) ?? l.text };
};

class NodeConnection {
  private socket?: net.Socket;
  private ready?: Promise<net.Socket>;
  private buffer: Buffer = Buffer.alloc(0);
  private readonly queue: Pending[] = [];

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly useTls: boolean,
    private readonly ca?: string,
  ) {}

  private connect(): Promise<net.Socket> {
    if (this.ready) return this.ready;
    this.ready = new Promise<net.Socket>((resolve, reject) => {
      // Events of a socket that was already replaced must not touch the current one.
      const onError = (err: Error) => {
        if (this.socket === sock) this.fail(err);
        reject(err);
      };
      const sock = this.useTls
        ? tls.connect({ host: this.host, port: this.port, servername: net.isIP(this.host) ? undefined : this.host, ca: this.ca ? [...tls.rootCertificates, this.ca] : undefined }, () => resolve(sock))
        : net.connect({ host: this.host, port: this.port }, () => resolve(sock));
      sock.setNoDelay(true);
      sock.on('error', onError);
      sock.on('close', () => {
        if (this.socket === sock) this.fail(new Error('memcached connection closed'));
        reject(new Error('memcached connection closed'));
      });
      sock.on('data', (chunk: Buffer) => {
        if (this.socket === sock) this.onData(chunk);
      });
      this.socket = sock;
    });
    // A rejected connect is observed by every caller through `request`; never leave it unhandled.
    this.ready.catch(() => undefined);
    return this.ready;
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.queue.length > 0) {
      const out = this.queue[0].parse(this.buffer);
      if (!out) return;
      this.buffer = this.buffer.subarray(out.consumed);
      const p = this.queue.shift()!;
      if (out.value instanceof Error) p.reject(out.value);
      else p.resolve(out.value);
    }
  }

  /** Drops the connection and fails whatever is in flight; the next call reconnects. */
  fail(err: Error): void {
    const sock = this.socket;
    this.socket = undefined;
    this.ready = undefined;
    this.buffer = Buffer.alloc(0);
    const pending = this.queue.splice(0);
    for (const p of pending) p.reject(err);
    if (sock && !sock.destroyed) sock.destroy();
  }

  async request(payload: Buffer, parse: Parser, timeoutMs: number): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CacheTimeout(`memcached ${this.host}:${this.port} did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([
        (async () => {
          const sock = await this.connect();
          return new Promise<unknown>((resolve, reject) => {
            this.queue.push({ parse, resolve, reject });
            sock.write(payload);
          });
        })(),
        deadline,
      ]);
    } catch (err) {
      // After a timeout the stream may still deliver the late reply: resynchronise by reconnecting.
      if (err instanceof CacheTimeout) this.fail(err);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.fail(new Error('memcached client closed'));
  }
}

// ---------------------------------------------------------------------------------------------

const KEY_RE = /^[\x21-\x7e]{1,250}$/;

export class MemcachedClient {
  private readonly ring?: HashRing;
  private readonly conns = new Map<string, NodeConnection>();
  private readonly failures = new Map<string, number>();
  private readonly skipUntil = new Map<string, number>();
  private readonly threshold: number;
  private readonly backoffMs: number;

  constructor(private readonly options: CacheOptions) {
    this.threshold = options.failureThreshold ?? 3;
    this.backoffMs = options.backoffMs ?? 5000;
    const names = options.nodes.map((n) => `${n.host}:${n.port}`);
    for (const [i, n] of options.nodes.entries()) this.conns.set(names[i], new NodeConnection(n.host, n.port, options.tls, options.ca));
    if (names.length > 0) this.ring = new HashRing(names);
  }

  get enabled(): boolean {
    return this.ring !== undefined;
  }

  private async call(key: string, op: string, payload: Buffer, parse: Parser): Promise<{ ok: true; value: unknown } | { ok: false }> {
    if (!this.ring) return { ok: false };
    const node = this.ring.nodeFor(key);
    const until = this.skipUntil.get(node) ?? 0;
    if (Date.now() < until) return { ok: false };
    try {
      const value = await this.conns.get(node)!.request(payload, parse, this.options.timeoutMs);
      this.failures.set(node, 0);
      this.skipUntil.delete(node);
      return { ok: true, value };
    } catch (err) {
      const count = (this.failures.get(node) ?? 0) + 1;
      this.failures.set(node, count);
      this.options.onError?.(node, op, err as Error);
      if (count >= this.threshold) {
        const next = Date.now() + this.backoffMs;
        this.skipUntil.set(node, next);
        this.failures.set(node, 0);
        this.options.onBackoff?.(node, next);
      }
      return { ok: false };
    }
  }

  /** The cached value, or undefined on a miss, a failure, a timeout or while the node backs off. */
  async get(key: string): Promise<Buffer | undefined> {
    if (!KEY_RE.test(key)) throw new Error(`invalid cache key "${key}"`);
    const r = await this.call(key, 'get', Buffer.from(`get ${key}\r\n`), parseGet);
    return r.ok ? (r.value as Buffer | undefined) : undefined;
  }

  /** Stores a value for ttlSeconds; resolves false when it could not. */
  async set(key: string, value: Buffer | string, ttlSeconds: number): Promise<boolean> {
    if (!KEY_RE.test(key)) throw new Error(`invalid cache key "${key}"`);
    const data = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    const payload = Buffer.concat([Buffer.from(`set ${key} 0 ${ttlSeconds} ${data.length}\r\n`), data, CRLF]);
    const r = await this.call(key, 'set', payload, parseLine);
    return r.ok && r.value === 'STORED';
  }

  /** Asks every node for its version (bounded like any call): "ok" only when all answer. */
  async health(): Promise<CacheHealth> {
    if (!this.ring) return 'off';
    const results = await Promise.all(
      [...this.conns.keys()].map(async (node) => {
        if (Date.now() < (this.skipUntil.get(node) ?? 0)) return false;
        try {
          const v = await this.conns.get(node)!.request(Buffer.from('version\r\n'), parseLine, this.options.timeoutMs);
          return typeof v === 'string' && v.startsWith('VERSION');
        } catch (err) {
          this.options.onError?.(node, 'version', err as Error);
          return false;
        }
      }),
    );
    return results.every(Boolean) ? 'ok' : 'degraded';
  }

  close(): void {
    for (const c of this.conns.values()) c.close();
  }
}
