/**
 * Reads the server name (SNI) from a TLS ClientHello, as a TLS-routing load balancer does before it picks the
 * backend. Only what routing needs: the first handshake record, the server_name extension.
 */

/** 'wait' until the whole first record has arrived; undefined when it is not a ClientHello or names no server. */
export function readSni(buf: Buffer): string | undefined | 'wait' {
  if (buf.length < 5) return 'wait';
  if (buf[0] !== 0x16) return undefined; // not a TLS handshake record
  const recordEnd = 5 + buf.readUInt16BE(3);
  if (buf.length < recordEnd) return recordEnd > 5 + 16_384 ? undefined : 'wait';
  let p = 5;
  if (buf[p] !== 0x01) return undefined; // not a ClientHello
  p += 4; // handshake type, length
  p += 2 + 32; // client_version, random
  const need = (n: number) => p + n <= recordEnd;
  if (!need(1)) return undefined;
  p += 1 + buf[p]!; // session_id
  if (!need(2)) return undefined;
  p += 2 + buf.readUInt16BE(p); // cipher_suites
  if (!need(1)) return undefined;
  p += 1 + buf[p]!; // compression_methods
  if (!need(2)) return undefined;
  const extEnd = Math.min(recordEnd, p + 2 + buf.readUInt16BE(p));
  p += 2;
  while (p + 4 <= extEnd) {
    const type = buf.readUInt16BE(p);
    const len = buf.readUInt16BE(p + 2);
    p += 4;
    if (type === 0x0000 && p + 5 <= extEnd) {
      // server_name_list length (2), name_type (1, host_name = 0), name length (2), name
      const nameLen = buf.readUInt16BE(p + 3);
      if (buf[p + 2] === 0 && p + 5 + nameLen <= extEnd) return buf.subarray(p + 5, p + 5 + nameLen).toString('ascii').toLowerCase();
      return undefined;
    }
    p += len;
  }
  return undefined;
}
