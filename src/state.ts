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
  /** Name of a token being created: set before the create, so a lost answer can still be cleaned up. */
  pendingName: 'pending-name',
} as const;

export interface SavedState {
  host: string;
  userId: string;
  /** Empty when main never learnt the id (the create's answer was lost): post looks the token up by name. */
  tokenId: string;
  tokenName: string;
  endDate: string;
}

export function loadState(getState: (name: string) => string): SavedState | undefined {
  const s = {
    host: getState(STATE.host),
    userId: getState(STATE.userId),
    tokenId: getState(STATE.tokenId),
    tokenName: getState(STATE.tokenName) || getState(STATE.pendingName),
    endDate: getState(STATE.endDate),
  };
  return s.host && s.tokenName && (s.tokenId || s.userId) ? s : undefined;
}
