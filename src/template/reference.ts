import { padVersion } from '../envelope/version.js';
import { messageOf } from '../errors.js';

/** A credential as a manifest names it: a name and a version, or the latest version. */
export interface CredentialReference {
  readonly credential: string;
  /** Padded when numeric; `undefined` means the latest version. */
  readonly version: string | undefined;
}

/**
 * `name` or `name@VERSION`, as the dotenv form and template references write it: the **last**
 * `@` starts the version, so a name may itself contain `@` (and is then written with a version).
 * Returns the reference, or why it is not one. Pure.
 */
export function parseReference(text: string): CredentialReference | string {
  const at = text.lastIndexOf('@');
  if (at === -1) return { credential: text, version: undefined };
  const credential = text.slice(0, at);
  const version = text.slice(at + 1);
  if (credential === '') return 'the credential name before "@" is empty';
  if (version === '') return 'the version after "@" is empty';
  try {
    return { credential, version: padVersion(version) };
  } catch (error: unknown) {
    return messageOf(error);
  }
}

/** `name` or `name@version`, as a manifest would write it. */
export function describeReference(reference: CredentialReference): string {
  return reference.version === undefined
    ? reference.credential
    : `${reference.credential}@${reference.version}`;
}
