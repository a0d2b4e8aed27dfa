import { describe, expect, it } from 'vitest';
import { parseCommandFile, renderLog } from '../harness/runner.js';
import { maskedBeforeUse } from '../harness/leaks.js';
import { maskSecret, redact } from '../src/secrets.js';

describe('runner harness', () => {
  it('reads name=value lines and heredocs as the runner does', () => {
    expect(parseCommandFile('a=1\nb<<EOF_x\nline1\nline2\nEOF_x\nc=x=y\n')).toEqual({ a: '1', b: 'line1\nline2', c: 'x=y' });
    expect(() => parseCommandFile('b<<E\nno end\n')).toThrow('unterminated');
  });

  it('hides a value only from the moment it is masked, line by line for multi-line values', () => {
    const log = renderLog('early s3cr3t\n::add-mask::s3cr3t\nlate s3cr3t\n::add-mask::l1%0Al2\nx l2 y\n::warning::w s3cr3t\n', '', []);
    expect(log).toEqual(['early s3cr3t', 'late ***', 'x *** y', 'Warning: w ***']);
    expect(maskedBeforeUse('::add-mask::abc\nabc', 'abc')).toBe(true);
    expect(maskedBeforeUse('abc\n::add-mask::abc', 'abc')).toBe(false);
  });
});

describe('secrets', () => {
  it('masks each line of a multi-line secret and the whole', () => {
    const masked: string[] = [];
    maskSecret('-----BEGIN KEY-----\nAAAABBBB\nCCCCDDDD\n-----END KEY-----\n', (v) => masked.push(v));
    expect(masked).toContain('AAAABBBB');
    expect(masked).toContain('CCCCDDDD');
    expect(masked[0]).toContain('\n');
    expect(redact('x AAAABBBB y', ['p\nAAAABBBB'])).toBe('x *** y');
  });
});
