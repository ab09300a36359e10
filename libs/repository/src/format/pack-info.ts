/** HKDF info string of pack keys (see crypto/envelope.ts newSealingSession). */
export const PACK_INFO = 'coffer pack v1';
