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
} as const;

export interface SavedState {
  host: string;
  tokenId: string;
  tokenName: string;
  userId: string;
  endDate: string;
}

export function loadState(getState: (name: string) => string): SavedState | undefined {
  const s = {
    host: getState(STATE.host),
    tokenId: getState(STATE.tokenId),
    tokenName: getState(STATE.tokenName),
    userId: getState(STATE.userId),
    endDate: getState(STATE.endDate),
  };
  return s.tokenId && s.host ? s : undefined;
}
