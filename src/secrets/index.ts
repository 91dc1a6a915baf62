export { putSecret, type PutInput } from './put-secret.js';
export { getSecret, getAllSecrets, type GetInput, type GetAllInput } from './read-secrets.js';
export {
  listSecrets,
  listNames,
  deleteSecrets,
  type CredentialSummary,
  type DeleteInput,
} from './manage-secrets.js';
