/**
 * What main hands to post through GITHUB_STATE: ids and the host, never a secret.
 */
export const STATE = {
  isPost: 'isPost',
  host: 'host',
  tokenId: 'token-id',
  tokenName: 'token-name',
  userId: 'user-id',
  endDate: 'end-date',
  /** `service-user` when main created an ephemeral service user; absent for a token. */
  kind: 'kind',
  serviceUserId: 'service-user-id',
  /** Name of a token being created: set before the create, so a lost answer can still be cleaned up. */
  pendingName: 'pending-name',
} as const;

export interface SavedState {
  kind: 'token' | 'service-user';
  host: string;
  /** The ephemeral service user's id (kind service-user). */
  serviceUserId: string;
  userId: string;
  /** Empty when main never learnt the id (the create's answer was lost): post looks the token up by name. */
  tokenId: string;
  tokenName: string;
  endDate: string;
}

export function loadState(getState: (name: string) => string): SavedState | undefined {
  const s: SavedState = {
    kind: getState(STATE.kind) === 'service-user' ? 'service-user' : 'token',
    host: getState(STATE.host),
    serviceUserId: getState(STATE.serviceUserId),
    userId: getState(STATE.userId),
    tokenId: getState(STATE.tokenId),
    tokenName: getState(STATE.tokenName) || getState(STATE.pendingName),
    endDate: getState(STATE.endDate),
  };
  const known = s.kind === 'token' ? s.tokenId || s.userId : true;
  return s.host && s.tokenName && known ? s : undefined;
}
