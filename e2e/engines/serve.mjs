// dist/ served with the error/download hook (./hook.mjs) as the first script of index.html: a
// temporary directory holding links to dist/'s files and a patched index.html.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dist, startServer } from '../lib.mjs';
import { HOOK } from './hook.mjs';

export async function startHookedServer() {
  if (!fs.existsSync(path.join(dist, 'index.html'))) {
    throw new Error(`no build in ${dist}: run trunk build --release, or set DICELENS_DIST`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dicelens-engines-'));
  for (const f of fs.readdirSync(dist)) {
    if (f !== 'index.html') fs.symlinkSync(path.join(dist, f), path.join(dir, f));
  }
  const html = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
  if (!/<head>/i.test(html)) throw new Error('dist/index.html has no <head>');
  fs.writeFileSync(path.join(dir, 'index.html'), html.replace(/<head>/i, `<head><script>${HOOK}</script>`));
  const srv = await startServer(dir);
  return {
    ...srv,
    close: async () => {
      await srv.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
