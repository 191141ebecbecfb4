/**
 * Whose fair share a run counts against: its API token, or the client's address for anonymous use.
 * One key per owner in `runs.owner_key`, so admission and the claim count the same thing.
 */
export type RunOwner = { key: string; anonymous: boolean };

export function tokenOwner(tokenId: string): RunOwner {
  return { key: `token:${tokenId}`, anonymous: false };
}

export function addressOwner(address: string): RunOwner {
  return { key: `addr:${address}`, anonymous: true };
}

export const ANONYMOUS_OWNER_PREFIX = "addr:";
