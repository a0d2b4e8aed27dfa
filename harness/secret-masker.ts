/**
 * The runner's job-wide secret masker: every registered value (and its encoded forms) is found in a line, the
 * overlapping matches are merged, and each merged range becomes one `***`.
 * Source: actions/runner 2.336.0, src/Sdk/DTLogging/Logging/SecretMasker.cs (AddValue, MaskSecrets),
 * ValueEncoders.cs, and src/Runner.Common/HostContext.cs (the encoders the runner registers).
 * Left out: the base64 "shift 1/2" encoders (a secret's base64 at a non-zero byte offset) and regex secrets.
 */
type Encoder = (value: string) => string;

/** .NET Uri.EscapeDataString leaves only RFC 3986 unreserved characters; encodeURIComponent also leaves !'()*. */
const uriDataEscape: Encoder = (v) => encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const ENCODERS: Encoder[] = [
  (v) => Buffer.from(v, 'utf8').toString('base64'), // Base64StringEscape
  (v) => v.replace(/"/g, '\\"'), // CommandLineArgumentEscape
  (v) => v.replace(/'/g, "''"), // ExpressionStringEscape
  (v) => JSON.stringify(v).slice(1, -1), // JsonStringEscape (Newtonsoft; equal for the characters secrets hold)
  uriDataEscape, // UriDataEscape
];

export class SecretMasker {
  private readonly originals = new Set<string>();
  private readonly values = new Set<string>();

  /** AddValue: empty values are ignored; a value and each encoded form are matched from now on. */
  add(value: string): void {
    if (!value || this.originals.has(value)) return;
    this.originals.add(value);
    this.values.add(value);
    for (const encode of ENCODERS) {
      const e = encode(value);
      if (e) this.values.add(e);
    }
  }

  /** The values registered so far (originals, not encodings), in order. */
  registered(): string[] {
    return [...this.originals];
  }

  mask(input: string): string {
    if (!input) return '';
    const ranges: [number, number][] = [];
    for (const v of this.values) {
      for (let at = input.indexOf(v); at >= 0; at = input.indexOf(v, at + 1)) ranges.push([at, at + v.length]);
    }
    if (ranges.length === 0) return input;
    ranges.sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const r of ranges) {
      const last = merged[merged.length - 1];
      // Overlapping (or touching) matches become one replacement, as MaskSecrets merges positions.
      if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
      else merged.push([r[0], r[1]]);
    }
    let out = '';
    let from = 0;
    for (const [start, end] of merged) {
      out += `${input.slice(from, start)}***`;
      from = end;
    }
    return out + input.slice(from);
  }
}
