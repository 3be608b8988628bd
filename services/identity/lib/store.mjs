// oidc-provider's storage (sessions, grants, codes, refresh tokens) in one file of the data
// directory, so that a restart (which a key rotation needs) signs no one out. JWT access
// tokens are not stored: they verify on their own. This is one process's store for one
// machine; a shared deployment uses its own provider (Keycloak in compose) instead.
//
// The device flow and CIBA are off, so the adapter's findByUserCode is never called and is
// left out.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { readJson, writePrivateJson } from './datadir.mjs';

const nowSeconds = () => Math.floor(Date.now() / 1000);

export function fileAdapter(dataDir) {
  const file = path.join(dataDir, 'provider-state.json');
  // key "<Model>:<id>" -> { payload, expiresAt } (epoch seconds; null: no expiry)
  const entries = new Map(fs.existsSync(file) ? Object.entries(readJson(file)) : []);

  const live = (key) => {
    const entry = entries.get(key);
    return entry && (entry.expiresAt === null || entry.expiresAt > nowSeconds()) ? entry : undefined;
  };
  const save = () => {
    for (const key of entries.keys()) if (!live(key)) entries.delete(key);
    writePrivateJson(file, Object.fromEntries(entries));
  };

  return class FileAdapter {
    constructor(model) {
      this.model = model;
    }

    key(id) {
      return `${this.model}:${id}`;
    }

    async upsert(id, payload, expiresIn) {
      entries.set(this.key(id), { payload, expiresAt: expiresIn ? nowSeconds() + expiresIn : null });
      save();
    }

    async find(id) {
      return live(this.key(id))?.payload;
    }

    async findByUid(uid) {
      const prefix = `${this.model}:`;
      for (const [key, { payload }] of entries) {
        if (key.startsWith(prefix) && payload.uid === uid && live(key)) return payload;
      }
      return undefined;
    }

    async consume(id) {
      const entry = live(this.key(id));
      if (entry) {
        entry.payload.consumed = nowSeconds();
        save();
      }
    }

    async destroy(id) {
      entries.delete(this.key(id));
      save();
    }

    // Every token of a grant, whatever its model: called when a grant is revoked (sign-out,
    // a refresh token used twice).
    async revokeByGrantId(grantId) {
      for (const [key, { payload }] of entries) {
        if (payload.grantId === grantId) entries.delete(key);
      }
      save();
    }
  };
}
