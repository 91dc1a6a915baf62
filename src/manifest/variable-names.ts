/** POSIX-portable environment variable names; anything else is refused by the manifest. */
const VALID_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isValidVariableName(name: string): boolean {
  return VALID_NAME.test(name);
}

/**
 * A family of variables that change which code the child (or its loader, interpreter, shell or
 * the tools it runs) executes, which certificates it trusts, or where it writes what it should
 * keep to itself. Whoever can write to the credential store could take over every process
 * credexec starts through one of these, so a manifest needs `--allow-var NAME` to set one.
 * docs/launcher.md lists every entry with its reason; a test keeps the two in step.
 */
export interface DangerousFamily {
  /** Who reads them: a heading in the docs. */
  readonly category: string;
  /** Completes "variable X is refused: …" */
  readonly reason: string;
  readonly names: readonly string[];
  /** Whole families: every variable whose name starts with one of these. */
  readonly prefixes: readonly string[];
}

export const DANGEROUS_FAMILIES: readonly DangerousFamily[] = [
  {
    category: 'Dynamic loaders and the C library (glibc, musl, macOS dyld)',
    reason: 'the dynamic loader or the C library loads code, data or files from it',
    // glibc's unsecure-envvars list (sysdeps/generic/unsecvars.h), musl's locale path.
    names: [
      'GCONV_PATH',
      'GETCONF_DIR',
      'GLIBC_TUNABLES',
      'HOSTALIASES',
      'LOCALDOMAIN',
      'LOCPATH',
      'MALLOC_TRACE',
      'NIS_PATH',
      'NLSPATH',
      'RESOLV_HOST_CONF',
      'RES_OPTIONS',
      'TMPDIR',
      'TZDIR',
      'MUSL_LOCPATH',
    ],
    prefixes: ['LD_', 'DYLD_'],
  },
  {
    category: 'Shells (sh, bash, dash, ksh, zsh)',
    reason: 'shells run code from it or look commands up with it',
    names: [
      'PATH',
      'IFS',
      'ENV',
      'BASH_ENV',
      'SHELLOPTS',
      'BASHOPTS',
      'PS0',
      'PS1',
      'PS2',
      'PS4',
      'PROMPT_COMMAND',
      'BASH_LOADABLES_PATH',
      'CDPATH',
      'FPATH',
      'ZDOTDIR',
    ],
    prefixes: [],
  },
  {
    category: 'Node.js',
    reason: 'Node.js loads code or data from it, or writes files where it says',
    names: [
      'NODE_OPTIONS',
      'NODE_PATH',
      'NODE_REPL_EXTERNAL_MODULE',
      'NODE_ICU_DATA',
      'NODE_COMPILE_CACHE',
      'NODE_PRESERVE_SYMLINKS',
      'NODE_V8_COVERAGE',
      'NODE_REDIRECT_WARNINGS',
      'NODE_CHANNEL_FD',
      'ELECTRON_RUN_AS_NODE',
    ],
    prefixes: [],
  },
  {
    category: 'Python',
    reason: 'Python loads or runs code from it',
    names: [
      'PYTHONPATH',
      'PYTHONHOME',
      'PYTHONSTARTUP',
      'PYTHONINSPECT',
      'PYTHONUSERBASE',
      'PYTHONWARNINGS',
      'PYTHONBREAKPOINT',
      'PYTHONEXECUTABLE',
      'PYTHONPYCACHEPREFIX',
      'PYTHONPLATLIBDIR',
      'PYTHONCASEOK',
    ],
    prefixes: [],
  },
  {
    category: 'Perl',
    reason: 'Perl loads or runs code from it',
    names: ['PERL5LIB', 'PERLLIB', 'PERL5OPT', 'PERL5DB', 'PERLDB_OPTS', 'PERLIO', 'PERL5SHELL'],
    prefixes: [],
  },
  {
    category: 'Ruby, RubyGems and Bundler',
    reason: 'Ruby loads or runs code from it',
    names: [
      'RUBYOPT',
      'RUBYLIB',
      'RUBYPATH',
      'RUBYSHELL',
      'GEM_HOME',
      'GEM_PATH',
      'GEMRC',
      'BUNDLE_GEMFILE',
    ],
    prefixes: [],
  },
  {
    category: 'Java virtual machines',
    reason: 'the JVM (or the script that starts it) loads code or agents from it',
    names: [
      'JAVA_TOOL_OPTIONS',
      '_JAVA_OPTIONS',
      'JDK_JAVA_OPTIONS',
      'JAVA_OPTS',
      'CLASSPATH',
      'JAVA_HOME',
    ],
    prefixes: [],
  },
  {
    category: '.NET',
    reason: 'the .NET runtime loads code or profilers from it',
    names: [
      'DOTNET_STARTUP_HOOKS',
      'DOTNET_ADDITIONAL_DEPS',
      'CORECLR_ENABLE_PROFILING',
      'COR_ENABLE_PROFILING',
    ],
    prefixes: ['CORECLR_PROFILER', 'COR_PROFILER'],
  },
  {
    category: 'PHP, Lua and Tcl',
    reason: 'the interpreter loads or runs code from it',
    names: ['PHPRC', 'PHP_INI_SCAN_DIR', 'TCLLIBPATH', 'TCL_LIBRARY'],
    // LUA_INIT, LUA_PATH, LUA_CPATH and their versioned forms (LUA_PATH_5_4…).
    prefixes: ['LUA_INIT', 'LUA_PATH', 'LUA_CPATH'],
  },
  {
    category: 'OpenSSL',
    reason: 'OpenSSL loads its configuration, engines or providers (code) from it',
    names: ['OPENSSL_CONF', 'OPENSSL_CONF_INCLUDE', 'OPENSSL_ENGINES', 'OPENSSL_MODULES'],
    prefixes: [],
  },
  {
    category: 'Certificate trust',
    reason: 'it changes which certificates the child trusts, or turns verification off',
    names: [
      'SSL_CERT_FILE',
      'SSL_CERT_DIR',
      'NODE_EXTRA_CA_CERTS',
      'NODE_TLS_REJECT_UNAUTHORIZED',
      'CURL_CA_BUNDLE',
      'REQUESTS_CA_BUNDLE',
      'AWS_CA_BUNDLE',
      'GRPC_DEFAULT_SSL_ROOTS_FILE_PATH',
      'GIT_SSL_CAINFO',
      'GIT_SSL_CAPATH',
      'GIT_SSL_NO_VERIFY',
      'PYTHONHTTPSVERIFY',
    ],
    prefixes: [],
  },
  {
    category: 'TLS key logging',
    reason:
      'TLS libraries write their session keys to the file it names, so traffic can be decrypted',
    names: ['SSLKEYLOGFILE'],
    prefixes: [],
  },
  {
    category: 'git',
    reason: 'git runs commands, reads configuration or picks the repository from it',
    names: [
      'GIT_CONFIG',
      'GIT_SSH',
      'GIT_SSH_COMMAND',
      'GIT_SSH_VARIANT',
      'GIT_EXEC_PATH',
      'GIT_ASKPASS',
      'GIT_EDITOR',
      'GIT_SEQUENCE_EDITOR',
      'GIT_PAGER',
      'GIT_PROXY_COMMAND',
      'GIT_EXTERNAL_DIFF',
      'GIT_TEMPLATE_DIR',
      'GIT_ALLOW_PROTOCOL',
      'GIT_DIR',
      'GIT_COMMON_DIR',
      'GIT_WORK_TREE',
      'GIT_INDEX_FILE',
      'GIT_OBJECT_DIRECTORY',
      'GIT_ALTERNATE_OBJECT_DIRECTORIES',
    ],
    // GIT_CONFIG_COUNT / _KEY_n / _VALUE_n / _PARAMETERS / _GLOBAL / _SYSTEM set any option
    // (core.sshCommand, core.pager…); GIT_TRACE* write traces, HTTP auth headers included.
    prefixes: ['GIT_CONFIG_', 'GIT_TRACE'],
  },
  {
    category: 'Commands other programs run',
    reason: 'programs run the command it names',
    names: [
      'SHELL',
      'EDITOR',
      'VISUAL',
      'PAGER',
      'MANPAGER',
      'BROWSER',
      'SSH_ASKPASS',
      'SUDO_ASKPASS',
      'LESSOPEN',
      'LESSCLOSE',
    ],
    prefixes: [],
  },
  {
    category: 'Where programs read their configuration',
    reason: 'programs read their configuration (which can run commands) from where it points',
    names: ['HOME', 'XDG_CONFIG_HOME', 'XDG_CONFIG_DIRS', 'CURL_HOME', 'WGETRC'],
    prefixes: [],
  },
  {
    category: 'Package managers',
    reason:
      'the package manager takes settings from it, such as the registry code is installed from',
    names: [],
    // npm reads npm_config_* in any case.
    prefixes: ['npm_config_', 'PIP_'],
  },
];

// Names are compared in upper case: npm reads its variables in any case, and on Windows every
// variable name is case-insensitive. Refusing `path` on Linux as well costs nothing.
const BY_NAME = new Map(
  DANGEROUS_FAMILIES.flatMap((family) =>
    family.names.map((name) => [name.toUpperCase(), family] as const),
  ),
);
const BY_PREFIX = DANGEROUS_FAMILIES.flatMap((family) =>
  family.prefixes.map((prefix) => [prefix.toUpperCase(), family] as const),
);

/** The family that makes `name` dangerous, or `undefined` for an ordinary variable. */
export function dangerousFamily(name: string): DangerousFamily | undefined {
  const upper = name.toUpperCase();
  return BY_NAME.get(upper) ?? BY_PREFIX.find(([prefix]) => upper.startsWith(prefix))?.[1];
}

export function isDangerousVariable(name: string): boolean {
  return dangerousFamily(name) !== undefined;
}

/** credexec's own settings; never passed to the child, so a manifest cannot set them either. */
export const RESERVED_PREFIX = 'CREDEXEC_';

export function isReservedVariable(name: string): boolean {
  return name.startsWith(RESERVED_PREFIX);
}
