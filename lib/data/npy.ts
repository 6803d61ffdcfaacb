/**
 * NumPy .npy files (format version 1.0) for uint8 and float32 arrays, so a preprocessed dataset can be
 * opened with np.load and a NumPy array can be read here. Only C-order (row-major) arrays are supported.
 * Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */
import * as fs from 'fs';
import { releaseTempPath, tempPathFor } from '../files';

export type NpyDtype = 'uint8' | 'float32';
export type NpyData = Uint8Array | Float32Array;

export interface NpyArray {
  data: NpyData;
  shape: number[];
  dtype: NpyDtype;
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // "\x93NUMPY"
/** NumPy pads the header so the data starts on a 64-byte boundary (it lets np.load memory-map aligned). */
const ALIGNMENT = 64;
/** Little-endian descr strings; '|u1' has no byte order. */
const DESCR: Record<NpyDtype, string> = { uint8: '|u1', float32: '<f4' };

function dtypeOf(data: NpyData): NpyDtype {
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Float32Array) return 'float32';
  throw new Error('writeNpy: data must be a Uint8Array or Float32Array');
}

/** Python's repr of a shape tuple: (), (3,), (2, 3). */
function shapeRepr(shape: number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/** The 64-byte-aligned preamble: magic, version 1.0, header length, header dict padded with spaces and a newline. */
export function npyHeader(dtype: NpyDtype, shape: number[]): Buffer {
  const dict = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${shapeRepr(shape)}, }`;
  const fixed = MAGIC.length + 2 + 2; // magic, version bytes, uint16 header length
  const unpadded = fixed + dict.length + 1; // + '\n'
  const padded = Math.ceil(unpadded / ALIGNMENT) * ALIGNMENT;
  const headerLength = padded - fixed;
  if (headerLength > 0xffff) throw new Error('writeNpy: shape too long for an .npy v1.0 header');
  const preamble = Buffer.alloc(padded, 0x20);
  MAGIC.copy(preamble, 0);
  preamble[6] = 1; // major version
  preamble[7] = 0; // minor version
  preamble.writeUInt16LE(headerLength, 8);
  preamble.write(dict, fixed, 'latin1');
  preamble[padded - 1] = 0x0a;
  return preamble;
}

function checkShape(file: string, shape: number[], length: number): void {
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`${file}: shape must be non-negative integers (got [${shape.join(', ')}])`);
  }
  const expected = shape.reduce((a, b) => a * b, 1);
  if (expected !== length) {
    throw new Error(`${file}: shape [${shape.join(', ')}] needs ${expected} elements but data has ${length}`);
  }
}

/**
 * Writes `data` (C order) as an .npy file. Atomic: writes a temporary sibling (tempPathFor) and renames it into place,
 * so an interrupted write never leaves a truncated file under the final name.
 */
export function writeNpy(file: string, data: NpyData, shape: number[]): void {
  const dtype = dtypeOf(data);
  checkShape(file, shape, data.length);
  // .npy is little-endian; typed arrays use the platform's order, which is little-endian on every Node target.
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const tmp = tempPathFor(file);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, npyHeader(dtype, shape));
    // writeSync writes at most 2 GiB per call: loop for large datasets.
    for (let offset = 0; offset < body.length; ) {
      offset += fs.writeSync(fd, body, offset, Math.min(body.length - offset, 1 << 30));
    }
    fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    releaseTempPath(tmp);
    throw err;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
  releaseTempPath(tmp);
}

function readExactly(fd: number, target: Uint8Array, position: number, file: string): void {
  for (let done = 0; done < target.length; ) {
    const n = fs.readSync(fd, target, done, Math.min(target.length - done, 1 << 30), position + done);
    if (n === 0) throw new Error(`${file}: truncated .npy file (expected ${target.length} data bytes, got ${done})`);
    done += n;
  }
}

/** Parses the header dict NumPy writes; accepts v1.0 and v2.0 (4-byte header length) files. */
function parseHeader(file: string, fd: number): { dtype: NpyDtype; shape: number[]; dataOffset: number } {
  const start = Buffer.alloc(12);
  if (fs.readSync(fd, start, 0, 12, 0) < 10 || !start.subarray(0, 6).equals(MAGIC)) {
    throw new Error(`${file}: not an .npy file (bad magic)`);
  }
  const major = start[6];
  if (major !== 1 && major !== 2 && major !== 3) throw new Error(`${file}: unsupported .npy version ${major}.${start[7]}`);
  const lengthBytes = major === 1 ? 2 : 4;
  const headerLength = major === 1 ? start.readUInt16LE(8) : start.readUInt32LE(8);
  const header = Buffer.alloc(headerLength);
  readExactly(fd, header, 8 + lengthBytes, file);
  const text = header.toString(major === 3 ? 'utf8' : 'latin1');

  const descr = /'descr':\s*'([^']+)'/.exec(text)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new Error(`${file}: malformed .npy header: ${text.trim()}`);
  }
  if (fortran === 'True') throw new Error(`${file}: Fortran-order arrays are not supported (save with np.ascontiguousarray)`);
  const dtype = (Object.keys(DESCR) as NpyDtype[]).find((d) => DESCR[d] === descr || (d === 'uint8' && descr === '<u1'));
  if (!dtype) throw new Error(`${file}: unsupported dtype ${descr} (only uint8 and little-endian float32)`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  return { dtype, shape, dataOffset: 8 + lengthBytes + headerLength };
}

/** Reads an .npy file written by writeNpy or by NumPy (uint8 or float32, C order). */
export function readNpy(file: string): NpyArray {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw new Error(`${file}: cannot open (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    const { dtype, shape, dataOffset } = parseHeader(file, fd);
    const count = shape.reduce((a, b) => a * b, 1);
    // Allocating the typed array ourselves keeps float32 data 4-byte aligned (a Buffer slice might not be).
    // uint8 image data goes into shared memory, so training workers can read it without a second copy.
    const data = dtype === 'uint8' ? new Uint8Array(new SharedArrayBuffer(count)) : new Float32Array(count);
    readExactly(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), dataOffset, file);
    return { data, shape, dtype };
  } finally {
    fs.closeSync(fd);
  }
}
