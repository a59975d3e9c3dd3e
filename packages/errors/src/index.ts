export { ERROR_CODES, HeraldError, codeForClientStatus, toHeraldError, issuesToDetails } from './herald-error.js';
export type { ErrorBody, ErrorCode, ErrorDetail } from './herald-error.js';
