import * as fs from 'fs';
import * as path from 'path';

let counter = 0;

/**
 * Writes `data` to `file` atomically: the bytes go to a temporary file in the same directory,
 * are flushed to disk, and the file is renamed over `file`, so readers (and a crash) never see a
 * half-written file. Creates the directory when missing. The error names the file.
 *
 * @example
 * ```ts
 * writeFileAtomic('results/table.csv', 'a,b\n1,2\n');
 * ```
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const abs = path.resolve(file);
  const dir = path.dirname(abs);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(abs)}.${process.pid}.${++counter}.tmp`);
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, abs);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw new Error(`cannot write ${abs}: ${(err as Error).message}`, { cause: err });
  }
}
