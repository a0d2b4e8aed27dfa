// The types of the parts shims/undici/index.cjs exports: undici's own declarations, no more than those parts.
export { Agent, buildConnector, Dispatcher, EnvHttpProxyAgent, ProxyAgent } from 'undici-upstream/types/index.js';
