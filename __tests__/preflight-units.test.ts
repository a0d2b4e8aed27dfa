/** The small pieces behind preflight and tracing: field names, the trace line, host environments, NO_PROXY. */
import { describe, expect, it } from 'vitest';
import { answerShape, describeShape } from '../src/d1/answer-fields.js';
import { hostEnvironment, proxyFor } from '../src/job/preflight-checks/environment.js';
import { formatTrace, traceFor } from '../src/d1/trace.js';

describe('answerShape', () => {
  it('names only; odd keys become ?, lists give the union of their items', () => {
    expect(answerShape({ id: 'secret-value', token: 'x' })).toEqual({ kind: 'object', names: ['id', 'token'] });
    expect(answerShape({ '::error::x\nl': 1, ok: 2 })).toEqual({ kind: 'object', names: ['?', 'ok'] });
    expect(answerShape([{ id: 1 }, { id: 2, name: 'n' }, 'junk'])).toEqual({ kind: 'array', names: ['id', 'name'], items: 3 });
    expect(describeShape(answerShape([]))).toBe('empty array (no item fields to show)');
    expect(describeShape(answerShape('<html>'))).toBe('a body that is not JSON');
    expect(describeShape(answerShape(undefined))).toBe('empty body');
    const many = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`f${i}`, i]));
    expect(describeShape(answerShape(many))).toMatch(/f39, … \(\+10 more\)$/);
  });
});

describe('trace', () => {
  it('one line: method, path, status, duration, attempt, field names', () => {
    expect(formatTrace({ method: 'GET', path: '/account/api/v1/user/me', attempt: 1, durationMs: 12.4, status: 200, shape: { kind: 'object', names: ['id'] } })).toBe(
      'DigiCert ONE GET /account/api/v1/user/me -> 200 in 12 ms (attempt 1); fields id',
    );
    expect(formatTrace({ method: 'DELETE', path: '/x', attempt: 2, durationMs: 3, error: 'ECONNRESET\n::error::x' })).toBe('DigiCert ONE DELETE /x -> no answer (ECONNRESET ::error::x) in 3 ms (attempt 2)');
  });

  it('on only with RUNNER_DEBUG=1', () => {
    const lines: string[] = [];
    expect(traceFor((l) => lines.push(l), {})).toBeUndefined();
    expect(traceFor((l) => lines.push(l), { RUNNER_DEBUG: '0' })).toBeUndefined();
    traceFor((l) => lines.push(l), { RUNNER_DEBUG: '1' })!({ method: 'GET', path: '/p', attempt: 1, durationMs: 1, status: 204 });
    expect(lines).toEqual(['DigiCert ONE GET /p -> 204 in 1 ms (attempt 1)']);
  });
});

describe('hostEnvironment', () => {
  it('knows DigiCert production and demo hosts per region, and their counterparts', () => {
    expect(hostEnvironment('one.digicert.com')).toEqual({ environment: 'production', label: 'DigiCert ONE production (US)', counterpart: 'demo.one.digicert.com' });
    expect(hostEnvironment('demo.one.nl.digicert.com')).toMatchObject({ environment: 'demo', counterpart: 'one.nl.digicert.com' });
    expect(hostEnvironment('demo.localhost:8443')).toMatchObject({ environment: 'demo', counterpart: 'localhost:8443' });
  });

  it('never offers a counterpart for a host DigiCert does not publish', () => {
    expect(hostEnvironment('one.digicert.example.com')).toMatchObject({ environment: undefined, counterpart: undefined });
    expect(hostEnvironment('demo.evil.test')).toMatchObject({ counterpart: undefined });
  });
});

describe('proxyFor', () => {
  const P = { HTTPS_PROXY: 'http://user:pw@proxy.corp:3128' };
  it('the proxy host:port, never its credentials', () => {
    expect(proxyFor('one.digicert.com', P)).toBe('proxy.corp:3128');
    expect(proxyFor('one.digicert.com', {})).toBeUndefined();
  });
  it('NO_PROXY: exact names, .domain and *.domain for subdomains, ports, *', () => {
    expect(proxyFor('one.digicert.com', { ...P, NO_PROXY: 'one.digicert.com' })).toBeUndefined();
    expect(proxyFor('one.digicert.com', { ...P, NO_PROXY: 'digicert.com' })).toBe('proxy.corp:3128');
    expect(proxyFor('one.digicert.com', { ...P, NO_PROXY: '.digicert.com' })).toBeUndefined();
    expect(proxyFor('one.digicert.com', { ...P, no_proxy: '*.digicert.com' })).toBeUndefined();
    expect(proxyFor('localhost:8443', { ...P, NO_PROXY: 'localhost:9999' })).toBe('proxy.corp:3128');
    expect(proxyFor('localhost:8443', { ...P, NO_PROXY: 'localhost:8443' })).toBeUndefined();
    expect(proxyFor('x.test', { ...P, NO_PROXY: '*' })).toBeUndefined();
  });
});
