/**
 * Which DigiCert ONE environment a host is, and its counterpart in the other one. DigiCert runs production and
 * demo as separate services in each region (the allow-listed URLs page: one.digicert.com / demo.one.digicert.com,
 * one.digicert.co.jp, one.ch.digicert.com, one.nl.digicert.com and their demo. names), and a credential works only
 * where it was made ("demo credentials do not work in production"). An API key carries no mark of its environment,
 * and a key of the other one is answered with the same 401 as a wrong key; the only read-only way to tell the two
 * apart is to ask the counterpart host. Preflight does that only for DigiCert's own hosts and for names under
 * `localhost` (loopback, RFC 6761: the emulator), never for a host the user typed that DigiCert does not publish.
 */
export type Environment = 'production' | 'demo';

const PRODUCTION_HOSTS: Record<string, string> = {
  'one.digicert.com': 'US',
  'one.digicert.co.jp': 'JP',
  'one.ch.digicert.com': 'CH',
  'one.nl.digicert.com': 'NL',
};

export interface HostEnvironment {
  environment: Environment | undefined;
  /** Human words: "DigiCert ONE production (US)", "the emulator's demo environment", ... */
  label: string;
  /** host[:port] of the same service in the other environment, when it is safe to ask it. */
  counterpart: string | undefined;
}

export function hostEnvironment(host: string): HostEnvironment {
  const m = /^(.*?)(:\d+)?$/.exec(host)!;
  const name = m[1]!;
  const port = m[2] ?? '';
  const demo = name.startsWith('demo.');
  const base = demo ? name.slice('demo.'.length) : name;
  const environment: Environment = demo ? 'demo' : 'production';
  const region = PRODUCTION_HOSTS[base];
  if (region) {
    return { environment, label: `DigiCert ONE ${environment} (${region})`, counterpart: `${demo ? base : `demo.${base}`}${port}` };
  }
  if (base === 'localhost') {
    return { environment, label: `a loopback DigiCert ONE (the emulator), ${environment} name`, counterpart: `${demo ? base : `demo.${base}`}${port}` };
  }
  return { environment: undefined, label: 'not one of the DigiCert ONE hosts DigiCert publishes (environment unknown)', counterpart: undefined };
}

/**
 * The proxy the requests to `host` go through, as host:port (never its credentials), or undefined. Follows the
 * variables undici's EnvHttpProxyAgent reads (HTTPS_PROXY / https_proxy, then HTTP_PROXY / http_proxy) and the
 * common NO_PROXY forms (`*`, `name`, `.domain`, `*.domain`, `name:port`); an entry it does not understand is not matched.
 */
export function proxyFor(host: string, env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.HTTPS_PROXY ?? env.https_proxy ?? env.HTTP_PROXY ?? env.http_proxy;
  if (!raw) return undefined;
  const [name, port = '443'] = host.split(':') as [string, string?];
  for (const entry of (env.NO_PROXY ?? env.no_proxy ?? '').split(/[\s,]+/).filter(Boolean)) {
    const e = entry.toLowerCase();
    if (e === '*') return undefined;
    const [eName, ePort] = e.split(':') as [string, string?];
    if (ePort && ePort !== port) continue;
    // As the README states undici's rule: a bare name matches exactly; a leading `.` or `*.` matches subdomains.
    const wild = /^\*?\./.test(eName);
    const bare = eName.replace(/^\*?\./, '');
    if (wild ? name.endsWith(`.${bare}`) : name === bare) return undefined;
  }
  try {
    const u = new URL(raw);
    return u.host;
  } catch {
    return '(unreadable proxy URL)';
  }
}
