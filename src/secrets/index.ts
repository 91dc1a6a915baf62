export { putSecret, type PutInput } from './put-secret.js';
export {
  getSecret,
  getAllSecrets,
  readSecret,
  type GetInput,
  type GetAllInput,
  type SecretVersion,
} from './read-secrets.js';
export {
  listSecrets,
  listNames,
  deleteSecrets,
  type CredentialSummary,
  type DeleteInput,
} from './manage-secrets.js';
