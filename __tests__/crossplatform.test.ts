import { describe, expect, it } from 'vitest';
import { parseCommandFile, renderLog } from '../harness/runner.js';

// A step on a Windows runner writes CRLF (@actions/core ends workflow commands and file commands with os.EOL).
describe('runner model on Windows line endings', () => {
  it('a mask announced with CRLF hides the value in later CRLF lines (no trailing CR kept in the mask)', () => {
    const log = renderLog('::add-mask::s3cret-value\r\nusing s3cret-value now\r\n', 'stderr s3cret-value\r\n', []);
    expect(log).toEqual(['using *** now', 'stderr ***']);
  });

  it('workflow commands written with CRLF are read as on Linux', () => {
    expect(renderLog('::warning::near its end date\r\n', '', [])).toEqual(['Warning: near its end date']);
  });

  it.runIf(process.platform === 'win32')('on Windows, a command file written with CRLF gives the same values', () => {
    const text = 'token-id=42\r\nname<<ghadelimiter_1\r\nline one\r\nghadelimiter_1\r\n';
    expect(parseCommandFile(text)).toEqual({ 'token-id': '42', name: 'line one' });
  });

  it.runIf(process.platform !== 'win32')('elsewhere, the runner splits command files at LF only, as it does on Linux', () => {
    expect(parseCommandFile('token-id=42\nname<<EOF\nline one\nEOF\n')).toEqual({ 'token-id': '42', name: 'line one' });
  });
});

describe('leak scanner on Windows line endings', () => {
  it('sees a mask command written with CRLF as the mask it is', async () => {
    const { maskedBeforeUse } = await import('../harness/leaks.js');
    expect(maskedBeforeUse('::add-mask::s3cret-value\r\nusing ***\r\n', 's3cret-value')).toBe(true);
    expect(maskedBeforeUse('leaked s3cret-value\r\n::add-mask::s3cret-value\r\n', 's3cret-value')).toBe(false);
  });
});
