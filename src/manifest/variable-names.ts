/** POSIX-portable environment variable names; anything else is refused by the manifest. */
const VALID_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isValidVariableName(name: string): boolean {
  return VALID_NAME.test(name);
}

/**
 * Variables that change which code the child (or its interpreter, loader or shell) runs. A secret
 * store writer who could set one of these could take over every process credexec starts, so they
 * need an explicit `--allow-var`.
 */
const DANGEROUS_NAMES: ReadonlySet<string> = new Set([
  'PATH',
  'IFS',
  'ENV',
  'BASH_ENV',
  'SHELLOPTS',
  'BASHOPTS',
  'PS4',
  'PROMPT_COMMAND',
  'NODE_OPTIONS',
  'NODE_PATH',
  'NODE_EXTRA_CA_CERTS',
  'NODE_TLS_REJECT_UNAUTHORIZED',
  'PYTHONPATH',
  'PYTHONHOME',
  'PYTHONSTARTUP',
  'PYTHONINSPECT',
  'PYTHONUSERBASE',
  'PERL5LIB',
  'PERLLIB',
  'PERL5OPT',
  'PERL5DB',
  'RUBYOPT',
  'RUBYLIB',
  'GEM_PATH',
  'GEM_HOME',
  'JAVA_TOOL_OPTIONS',
  '_JAVA_OPTIONS',
  'JDK_JAVA_OPTIONS',
  'CLASSPATH',
  'GCONV_PATH',
  'GETCONF_DIR',
  'HOSTALIASES',
  'LOCPATH',
  'NLSPATH',
  'MALLOC_TRACE',
  'RESOLV_HOST_CONF',
  'GIT_SSH',
  'GIT_SSH_COMMAND',
  'GIT_EXEC_PATH',
]);

/** Prefixes of whole families: dynamic loaders (glibc, musl, macOS dyld). */
const DANGEROUS_PREFIXES: readonly string[] = ['LD_', 'DYLD_'];

export function isDangerousVariable(name: string): boolean {
  return DANGEROUS_NAMES.has(name) || DANGEROUS_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/** credexec's own settings; never passed to the child, so a manifest cannot set them either. */
export const RESERVED_PREFIX = 'CREDEXEC_';

export function isReservedVariable(name: string): boolean {
  return name.startsWith(RESERVED_PREFIX);
}
