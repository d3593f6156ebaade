export { createBreakGlassVerifier, breakGlassCovers } from './verifier.js';
export { issueBreakGlass, generateBreakGlassKey, MAX_ISSUE_TTL_S, type AdminKey } from './issue.js';
export { TOKEN_PREFIX } from './token.js';
export { BREAK_GLASS_ERRORS, BREAK_GLASS_HEADER } from './types.js';
export type { BreakGlassCheck, BreakGlassError, BreakGlassPayload, BreakGlassVerifier, BreakGlassVerifierOptions, IssueBreakGlassOptions, IssuedBreakGlass } from './types.js';
