/**
 * Example workflows cannot drift from action.yml: each parses, uses this action, gives it only inputs that exist
 * (and every required one), and reads only outputs that exist.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

interface Step {
  id?: string;
  uses?: string;
  with?: Record<string, unknown>;
  [k: string]: unknown;
}
interface Workflow {
  jobs: Record<string, { steps: Step[] }>;
}
interface ActionYml {
  inputs: Record<string, { required?: boolean; default?: string }>;
  outputs: Record<string, unknown>;
}

const action = parse(readFileSync('action.yml', 'utf8')) as ActionYml;
const files = [
  ...readdirSync('examples')
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join('examples', f)),
  '.github/workflows/example-release.yml',
  '.github/workflows/live.yml',
];

/** This action, as a user (`owner/d1-token-action@ref`) or this repository (`./`) names it. */
const isThisAction = (uses: string | undefined): boolean => uses === './' || /(^|\/)d1-token-action@/.test(uses ?? '');

describe('example workflows', () => {
  it('include the two documented examples', () => {
    expect(files).toEqual(expect.arrayContaining(['examples/basic.yml', 'examples/release-signing-smctl.yml', 'examples/scoped-credential.yml', 'examples/mtls-bootstrap.yml']));
  });

  describe.each(files)('%s', (file) => {
    const text = readFileSync(file, 'utf8');
    const wf = parse(text) as Workflow;
    const steps = Object.values(wf.jobs).flatMap((j) => j.steps);
    const ours = steps.filter((s) => isThisAction(s.uses));

    it('parses as a workflow with jobs and steps, and uses this action', () => {
      expect(Object.keys(wf.jobs).length).toBeGreaterThan(0);
      expect(ours.length).toBeGreaterThan(0);
    });

    it('gives the action only inputs from action.yml, and every required one', () => {
      const known = Object.keys(action.inputs);
      const required = known.filter((n) => action.inputs[n]!.required);
      for (const s of ours) {
        const given = Object.keys(s.with ?? {});
        expect(given.filter((k) => !known.includes(k)), `unknown inputs in ${file}`).toEqual([]);
        expect(required.filter((k) => !given.includes(k)), `missing required inputs in ${file}`).toEqual([]);
      }
    });

    it("reads only outputs that action.yml declares", () => {
      const ids = ours.map((s) => s.id).filter((id): id is string => Boolean(id));
      const used = ids.flatMap((id) => [...text.matchAll(new RegExp(`steps\\.${id}\\.outputs\\.([A-Za-z0-9_-]+)`, 'g'))].map((m) => m[1]!));
      expect(used.filter((o) => !(o in action.outputs))).toEqual([]);
    });
  });
});

describe('examples: supply chain', () => {
  const examples = readdirSync('examples').filter((f) => /\.ya?ml$/.test(f));

  it('every third-party action is pinned by a full commit SHA (this action itself by its release tag)', () => {
    for (const f of examples) {
      const wf = parse(readFileSync(join('examples', f), 'utf8')) as { jobs: Record<string, { steps: { uses?: string }[] }> };
      for (const job of Object.values(wf.jobs)) {
        for (const { uses } of job.steps) {
          if (!uses || uses.startsWith('org/d1-token-action@') || uses.startsWith('./')) continue;
          expect(uses, `${f}: ${uses}`).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
        }
      }
    }
  });

  it('a job that signs runs in an environment (required reviewers gate its bootstrap secret)', () => {
    for (const f of examples.filter((x) => x.includes('signing'))) {
      const wf = parse(readFileSync(join('examples', f), 'utf8')) as { jobs: Record<string, { environment?: unknown }> };
      expect(Object.values(wf.jobs).every((j) => j.environment !== undefined), f).toBe(true);
    }
  });
});
