import type { Backend } from '../backends/backend.js';
import { padVersion } from '../envelope/version.js';
import { NotFoundError } from '../errors.js';
import type { CredentialRef } from '../stores/item.js';
import { validateName } from './put-secret.js';
import { forCredential } from './store-call.js';

export interface CredentialSummary {
  readonly name: string;
  readonly version: string;
  readonly comment?: string;
}

const byNameThenVersion = (a: CredentialSummary, b: CredentialSummary) =>
  a.name < b.name
    ? -1
    : a.name > b.name
      ? 1
      : a.version < b.version
        ? -1
        : a.version > b.version
          ? 1
          : 0;

/** Every stored version (never values), sorted by name then version. */
export async function listSecrets(backend: Backend): Promise<CredentialSummary[]> {
  const items = await backend.store.scan();
  return items
    .map(({ name, version, comment }) =>
      comment === undefined ? { name, version } : { name, version, comment },
    )
    .sort(byNameThenVersion);
}

/** Unique credential names, sorted. */
export async function listNames(backend: Backend): Promise<string[]> {
  const names = new Set((await backend.store.scan()).map(({ name }) => name));
  return [...names].sort();
}

export interface DeleteInput {
  readonly name: string;
  /** Only this version; all versions when absent. */
  readonly version?: string | undefined;
}

/** Delete one version or all versions of a credential; a name with nothing to delete fails. */
export async function deleteSecrets(
  backend: Backend,
  input: DeleteInput,
): Promise<CredentialRef[]> {
  validateName(input.name);
  const refs =
    input.version === undefined
      ? await forCredential('delete', input.name, undefined, () =>
          backend.store.versions(input.name),
        )
      : [{ name: input.name, version: padVersion(input.version) }];
  const deleted: CredentialRef[] = [];
  for (const ref of refs) {
    if (await forCredential('delete', ref.name, ref.version, () => backend.store.delete(ref)))
      deleted.push(ref);
  }
  if (deleted.length === 0) {
    throw new NotFoundError(
      input.name,
      input.version === undefined ? undefined : padVersion(input.version),
      backend.store.description,
    );
  }
  return deleted;
}
