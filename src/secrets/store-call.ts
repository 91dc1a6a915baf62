import { CredentialStoreError, SetupRequiredError, StoreError } from '../errors.js';

/**
 * Run one store call made for a credential; a store failure comes back naming the credential too
 * (`cannot read credential "app.db" version 3: Query on table … : throttled`), as key-service
 * failures do. Other errors (not found, version exists) already name it and pass unchanged.
 */
export async function forCredential<T>(
  action: string,
  name: string,
  version: string | undefined,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (error: unknown) {
    if (error instanceof StoreError || error instanceof SetupRequiredError) {
      throw new CredentialStoreError(action, name, version, error);
    }
    throw error;
  }
}
