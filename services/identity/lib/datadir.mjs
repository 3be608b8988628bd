// The data directory holds the provider's secrets (signing keys, password hashes, client
// secrets, sessions): only its owner may read it.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export function preparePrivateDir(dir) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const mode = fs.statSync(dir).mode & 0o777;
  // An existing directory others can read is refused rather than silently tightened: who
  // made it so may rely on it, and the files already in it may have been read.
  if (mode & 0o077) {
    throw new Error(`data directory ${dir} is open to other users (mode ${mode.toString(8)}): chmod 700 it`);
  }
}

export function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

// Written beside the target and renamed over it, so a reader (the server reads the
// accounts on each sign-in) never sees half a file, and the new file is 0600 from birth.
export function writePrivateJson(file, value) {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${crypto.randomUUID()}`);
  fs.writeFileSync(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  fs.renameSync(temp, file);
}
