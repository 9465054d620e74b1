/**
 * Test preload (`node --require`): every attempt to resolve or reach a host other than loopback is written
 * to the file NET_GUARD_LOG names, one line each, and refused at once (no DNS wait, nothing leaves the
 * machine). Loaded into the load-test CLI and the Artillery it starts, it shows whether a run talks to
 * anything but the arms under test. Patches net.Socket#connect (every TCP and TLS client, fetch included)
 * and dns.lookup.
 */
'use strict';
const dns = require('dns');
const fs = require('fs');
const net = require('net');

const log = process.env.NET_GUARD_LOG;
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1|::ffff:127(\.\d{1,3}){3})$/i;
/** NET_GUARD_EXIT=<code>: end the process with that code at the first attempt (a test that only needs to know one happened need not wait for the client's retries). */
const exitCode = process.env.NET_GUARD_EXIT ? Number(process.env.NET_GUARD_EXIT) : undefined;
const record = (what) => {
  if (log) fs.appendFileSync(log, `${process.pid} ${what}\n`);
  if (exitCode !== undefined) process.exit(exitCode);
};

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  let options = args[0];
  if (Array.isArray(options)) options = options[0]; // net.connect passes its normalized [options, callback]
  if (typeof options !== 'object' || options === null) options = typeof options === 'number' ? { port: options, host: typeof args[1] === 'string' ? args[1] : undefined } : { path: options };
  const host = options.host ?? options.hostname;
  if (!options.path && host !== undefined && !LOOPBACK.test(host)) {
    record(`connect ${host}:${options.port}`);
    process.nextTick(() => this.destroy(Object.assign(new Error(`net guard: no connection to ${host}`), { code: 'ECONNREFUSED' })));
    return this;
  }
  return connect.apply(this, args);
};

const lookup = dns.lookup;
dns.lookup = function guardedLookup(hostname, options, callback) {
  const cb = typeof options === 'function' ? options : callback;
  if (typeof hostname === 'string' && !LOOPBACK.test(hostname)) {
    record(`lookup ${hostname}`);
    process.nextTick(() => cb(Object.assign(new Error(`net guard: no lookup of ${hostname}`), { code: 'ENOTFOUND', hostname })));
    return {};
  }
  return lookup.apply(this, arguments);
};
const promisesLookup = dns.promises.lookup;
dns.promises.lookup = function guardedPromisesLookup(hostname, ...rest) {
  if (typeof hostname === 'string' && !LOOPBACK.test(hostname)) {
    record(`lookup ${hostname}`);
    return Promise.reject(Object.assign(new Error(`net guard: no lookup of ${hostname}`), { code: 'ENOTFOUND', hostname }));
  }
  return promisesLookup.call(this, hostname, ...rest);
};
