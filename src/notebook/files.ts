import * as fs from 'fs';
import * as path from 'path';

let counter = 0;

/**
 * Writes `data` to `file` atomically: the bytes go to a temporary file in the same directory,
 * which is then renamed over `file`, so readers never see a half-written file. Creates the
 * directory when missing.
 *
 * @example
 * ```ts
 * writeFileAtomic('results/demo/table.csv', 'a,b\n1,2\n');
 * ```
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${++counter}.tmp`);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (err) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      // the temporary file may not exist
    }
    throw err;
  }
}
