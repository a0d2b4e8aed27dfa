// The import rules of src/ (`npm run depcheck`; docs/architecture.md draws the layers). Lower layers never import
// upper ones and steps never import each other, so a step can be read, tested and replaced on its own, and the
// code that touches secrets and the wire (platform, d1) cannot come to depend on how inputs or steps work.
// Layers, lowest first. A module belongs to the first layer whose pattern matches it.
export const LAYERS = [
  // Runner, log safety, secrets, time, HTTP: no knowledge of DigiCert ONE.
  ['platform', '^src/(core|log-safe|secrets|clock|http|version|input-error|summary|files|id-token-request)\\.ts$'],
  // Values of the run: names, end dates, the run context.
  ['model', '^src/(naming|expiry|run-context)\\.ts$'],
  // DigiCert ONE: the wire format, retries, the client, request tracing.
  ['d1', '^src/(d1-wire|d1-api|retry|trace|answer-fields)\\.ts$'],
  // Inputs and what they configure: bootstrap connection, client certificate, scope.
  ['config', '^src/(inputs|bootstrap|client-cert|scoped|broker-client)\\.ts$'],
  // What the steps are made of: credential kinds, minting, state, sweep, keypair check, job certificate.
  ['domain', '^src/(credentials/|preflight-checks/|mint|state|sweep|software-trust|job-certificate|step-deps|broker-steps)'],
  // The steps.
  ['steps', '^src/(main|post|preflight)\\.ts$'],
  // What the runner starts.
  ['entries', '^src/(entry/|index\\.ts$)'],
];

const STEPS = '^src/(main|post|preflight)\\.ts$';
const ANY_LAYER = LAYERS.map(([, path]) => path);

const layerRules = LAYERS.slice(0, -1).map(([name, path], i) => ({
  name: `${name}-not-up`,
  severity: 'error',
  comment: `${name} is below ${LAYERS.slice(i + 1).map(([n]) => n).join(', ')}: it must not import them`,
  from: { path },
  to: { path: LAYERS.slice(i + 1).map(([, p]) => p) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'src-not-to-tooling',
      severity: 'error',
      comment: 'the action (src/, bundled into dist/) must not import the emulator, the runner model, scripts, benches or tests',
      from: { path: '^src/' },
      to: { path: '^(scripts|harness|emulator|__tests__|bench)/' },
    },
    {
      name: 'entry-only-from-index',
      severity: 'error',
      comment: 'src/entry/* starts a step with the real collaborators; only src/index.ts (the bundle) may import it',
      from: { path: '^src/', pathNot: '^src/index\\.ts$' },
      to: { path: '^src/entry/' },
    },
    {
      name: 'steps-not-to-steps',
      severity: 'error',
      comment: 'a step (main, post, preflight) must not import another: share through a lower module (e.g. step-deps.ts)',
      from: { path: STEPS },
      to: { path: STEPS },
    },
    ...layerRules,
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'an import cycle in src/',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'an import that resolves to nothing',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
    {
      name: 'module-has-a-layer',
      // A warning, not an error: a new module should be placed in LAYERS above, but need not block a merge.
      severity: 'warn',
      comment: 'this module of src/ is in no layer: add it to LAYERS in .dependency-cruiser.mjs',
      from: { path: '^src/' },
      to: { path: '^src/', pathNot: ANY_LAYER },
    },
  ],
  options: {
    // Type-only imports count: `import type` ties modules together as much as a value import (preflight -> main was one).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|\\.build|node_modules)/' },
  },
};
