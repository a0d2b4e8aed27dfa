/**
 * Which files a step's Node process loads as ES modules: its entry (dist/main.js or dist/post.js), the shared bundle
 * (dist/index.js) and every chunk an import() fetches (dist/NNN.index.js). `recordLoadedFiles(out)` gives node
 * arguments (RunnerJob's nodeArgs) that register a module hook (module.register, Node 20.6 and later) writing each
 * file: URL it loads to `out`, one a line; `loadedFiles(out)` reads them back as paths relative to the project.
 * The bench and the tests use it to check that the default path loads no optional chunk.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectRoot } from './runner.js';

const dataUrl = (source: string): string => `data:text/javascript,${encodeURIComponent(source)}`;

export function recordLoadedFiles(out: string): string[] {
  const hooks = dataUrl(
    `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (url.startsWith('file:')) appendFileSync(${JSON.stringify(out)}, url + '\\n');
  return next(url, context);
}`,
  );
  return ['--import', dataUrl(`import { register } from 'node:module'; register(${JSON.stringify(hooks)});`)];
}

/** The files recorded so far (relative to the project, `/` separated, in load order, each once); clears the record. */
export function loadedFiles(out: string): string[] {
  if (!existsSync(out)) return [];
  const urls = readFileSync(out, 'utf8').split('\n').filter(Boolean);
  rmSync(out, { force: true });
  return [...new Set(urls.map((u) => relative(projectRoot(), fileURLToPath(u)).split('\\').join('/')))];
}
