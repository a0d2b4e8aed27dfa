// The import rules of src/ and broker/ (`npm run lint:imports`; docs/architecture.md draws the layers). Lower layers never import
// upper ones and steps never import each other, so a step can be read, tested and replaced on its own, and the
// code that touches secrets and the wire (platform, d1) cannot come to depend on how inputs or steps work.
// Layers, lowest first. A module belongs to the first layer whose pattern matches it.
export const LAYERS = [
  // Time, files, text safety (scrub, neutralise, cap), the one HTTP seam: no knowledge of DigiCert ONE or the runner.
  ['platform', '^src/platform/'],
  // The DigiCert ONE client: its wire format, the client, retries, request tracing.
  ['d1', '^src/d1/'],
  // Key material: the bootstrap client certificate (PKCS#12/PEM), the job's key pair, CSR and PKCS#12.
  ['keys', '^src/keys/'],
  // Credential kinds (one implementation per kind, shared by main and post), names, end dates, create-once, sweep.
  ['credentials', '^src/credentials/'],
  // The runner edge: inputs, state, outputs, summary, the guarded core, the run's context, the OIDC token request.
  ['runner', '^src/runner/'],
  // What the steps are made of: connection, making and revoking, scope, keypair check, preflight checks, broker mode.
  ['job', '^src/job/'],
  // The steps.
  ['steps', '^src/steps/'],
  // What the runner starts.
  ['entries', '^src/(entry/|index\\.ts$)'],
];

const STEPS = '^src/steps/';
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
      name: 'src-not-to-broker',
      severity: 'error',
      comment: 'the action (src/) must not import the broker (broker/): the broker builds on the action, not the other way',
      from: { path: '^src/' },
      to: { path: '^broker/' },
    },
    {
      name: 'broker-not-to-steps',
      severity: 'error',
      comment: "the broker (broker/) may use src/'s lower layers (platform, d1, keys, credentials, runner, job), never a step or an entry",
      from: { path: '^broker/' },
      to: { path: '^src/(steps/|entry/|index\\.ts$)' },
    },
    {
      name: 'broker-not-to-tooling',
      severity: 'error',
      comment: 'the broker (broker/, bundled into dist/broker/) must not import the emulator, the runner model, scripts, benches or tests',
      from: { path: '^broker/' },
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
      comment: 'a step (main, post, preflight) must not import another: share through a lower module (src/job/)',
      from: { path: STEPS },
      to: { path: STEPS },
    },
    ...layerRules,
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'an import cycle in src/ or broker/',
      from: { path: '^(src|broker)/' },
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'an import that resolves to nothing',
      from: { path: '^(src|broker)/' },
      // node:sqlite is a Node built-in since 22.5 (the broker's runtime is 24); on Node 20, where the suite also runs,
      // the cruiser cannot resolve it, and that says nothing about the tree.
      to: { couldNotResolve: true, pathNot: '^node:sqlite$' },
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
