export const WILDCARD = '*';

export function hasWildcard(pattern: string): boolean {
  return pattern.includes(WILDCARD);
}

/** `*` matches any run of characters; every other character is literal. Pure. */
export function wildcardMatcher(pattern: string): (name: string) => boolean {
  const parts = pattern.split(WILDCARD).map((part) => part.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&'));
  const regex = new RegExp(`^${parts.join('[\\s\\S]*')}$`, 'u');
  return (name) => regex.test(name);
}
