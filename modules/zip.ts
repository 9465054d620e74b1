/**
 * A deterministic zip of one file, written in-process. cdktf's ARCHIVE assets zip a directory in a
 * synchronous child process, about 0.45 s per asset and stack (FIELD-NOTES); with two functions per
 * environment that was most of synth's time. This writes the same kind of archive (one deflated entry,
 * fixed time and mode) in a few milliseconds, so the same code always gives the same bytes.
 */
import { crc32, deflateRawSync } from 'zlib';

/** 1980-01-01 00:00:00 in MS-DOS date/time fields: the earliest a zip entry can hold. */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
/** Created on Unix (3) by zip 2.0 (20): lets the external attributes carry a Unix mode. */
const MADE_BY_UNIX = (3 << 8) | 20;
const VERSION_NEEDED = 20;
const DEFLATE = 8;

/** A zip archive holding `data` as `name` (regular file, mode `mode`, deflated). */
export function zipSingleFile(name: string, data: Buffer, mode = 0o644): Buffer {
  const fileName = Buffer.from(name, 'utf8');
  const compressed = deflateRawSync(data, { level: 9 });
  const crc = crc32(data) >>> 0;

  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(VERSION_NEEDED, 4);
  local.writeUInt16LE(0x0800, 6); // bit 11: the name is UTF-8
  local.writeUInt16LE(DEFLATE, 8);
  local.writeUInt16LE(DOS_TIME, 10);
  local.writeUInt16LE(DOS_DATE, 12);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(compressed.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(fileName.length, 26);
  local.writeUInt16LE(0, 28);

  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(MADE_BY_UNIX, 4);
  central.writeUInt16LE(VERSION_NEEDED, 6);
  central.writeUInt16LE(0x0800, 8);
  central.writeUInt16LE(DEFLATE, 10);
  central.writeUInt16LE(DOS_TIME, 12);
  central.writeUInt16LE(DOS_DATE, 14);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(compressed.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(fileName.length, 28);
  // extra length, comment length, disk number, internal attributes: all 0
  central.writeUInt32LE(((0o100000 | mode) << 16) >>> 0, 38); // regular file with `mode`, Unix style
  central.writeUInt32LE(0, 42); // the local header is at offset 0

  const centralOffset = local.length + fileName.length + compressed.length;
  const centralSize = central.length + fileName.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(centralOffset, 16);

  return Buffer.concat([local, fileName, compressed, central, fileName, end]);
}
