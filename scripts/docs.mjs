// Builds the API reference from the TSDoc comments of every entry point (scripts/entries.mjs)
// into docs/api/, or with --check only validates: an exported name without documentation, or a
// link that does not resolve, fails the run.
//   node scripts/docs.mjs            writes docs/api/
//   node scripts/docs.mjs --check    validates, writes nothing (npm test runs this)
import { resolve } from 'node:path';
import { Application } from 'typedoc';
import { entries } from './entries.mjs';

const root = resolve(import.meta.dirname, '..');
const check = process.argv.includes('--check');
const entryPoints = [
  ...entries.map((e) => resolve(root, 'src', `${e.node}.ts`)),
  ...new Set(entries.filter((e) => e.browser).map((e) => resolve(root, 'src', `${e.browser}.ts`))),
];

const app = await Application.bootstrap({
  entryPoints: [...new Set(entryPoints)],
  tsconfig: resolve(root, 'tsconfig.build.json'),
  out: resolve(root, 'docs/api'),
  name: 'wskit API reference',
  readme: 'none',
  excludePrivate: true,
  excludeProtected: true,
  excludeInternal: true,
  excludeNotDocumented: false,
  validation: { notExported: false, invalidLink: true, notDocumented: true },
  // Every exported name; members of exported classes and interfaces are documented where they
  // say more than their name and type.
  requiredToBeDocumented: [
    'Class',
    'Function',
    'Variable',
    'Interface',
    'TypeAlias',
    'Enum',
    'Namespace',
  ],
  treatWarningsAsErrors: true,
  disableSources: true,
  githubPages: false,
  logLevel: 'Warn',
});
const project = await app.convert();
if (!project) process.exit(1);
app.validate(project);
if (app.logger.hasErrors() || app.logger.hasWarnings()) {
  console.error('docs: every exported name needs a TSDoc comment (see the warnings above)');
  process.exit(1);
}
if (!check) {
  await app.generateDocs(project, resolve(root, 'docs/api'));
  console.log('docs: API reference written to docs/api/index.html');
}
