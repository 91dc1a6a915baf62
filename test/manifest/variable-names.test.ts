import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { EMPTY_CONTEXT } from '../../src/envelope/context.js';
import { ManifestError } from '../../src/errors.js';
import { parseManifests } from '../../src/manifest/parse-manifest.js';
import { DANGEROUS_FAMILIES, dangerousFamily } from '../../src/manifest/variable-names.js';
import { REPO_ROOT } from '../support/vectors.js';

/** Every listed name, and one member of each prefix family. */
const LISTED = DANGEROUS_FAMILIES.flatMap((family) => [
  ...family.names.map((name) => ({ name, family })),
  ...family.prefixes.map((prefix) => ({
    name: prefix.endsWith('_') ? `${prefix}EXAMPLE` : `${prefix}_5_4`,
    family,
  })),
]);

function refusal(variable: string, allow: readonly string[] = []): string | undefined {
  try {
    parseManifests([{ name: 'm.env', text: `${variable}=some-credential\n` }], {
      allowVars: new Set(allow),
      context: EMPTY_CONTEXT,
    });
    return undefined;
  } catch (error: unknown) {
    if (error instanceof ManifestError) return error.message;
    throw error;
  }
}

test('every listed variable is refused without --allow-var, with the reason of its family', (t) => {
  t.true(LISTED.length > 100, `${LISTED.length} names`);
  for (const { name, family } of LISTED) {
    t.is(
      refusal(name),
      `m.env:1: variable ${name} is refused: ${family.reason} (allow it with --allow-var ${name})`,
    );
  }
});

test('every listed variable is accepted with --allow-var naming it', (t) => {
  for (const { name } of LISTED) t.is(refusal(name, [name]), undefined, name);
});

test('the guard ignores case, as npm and Windows do', (t) => {
  for (const name of ['npm_config_registry', 'NPM_CONFIG_USERCONFIG', 'Npm_Config_Script_Shell']) {
    t.is(dangerousFamily(name)?.category, 'Package managers', name);
  }
  for (const { name } of LISTED) t.not(dangerousFamily(name.toLowerCase()), undefined, name);
});

test('the variables of issue 9 and the classic loader variables are all refused', (t) => {
  const named = [
    'LD_PRELOAD',
    'LD_LIBRARY_PATH',
    'LD_AUDIT',
    'DYLD_INSERT_LIBRARIES',
    'OPENSSL_CONF',
    'OPENSSL_ENGINES',
    'OPENSSL_MODULES',
    'SSL_CERT_FILE',
    'SSL_CERT_DIR',
    'SSLKEYLOGFILE',
    'GIT_CONFIG_COUNT',
    'GIT_CONFIG_KEY_0',
    'GIT_CONFIG_VALUE_0',
    'GIT_CONFIG_PARAMETERS',
    'GIT_CONFIG_GLOBAL',
    'GIT_SSH_COMMAND',
    'GIT_ASKPASS',
    'GIT_PROXY_COMMAND',
    'GIT_EXTERNAL_DIFF',
    'GIT_TEMPLATE_DIR',
    'PYTHONWARNINGS',
    'PYTHONSTARTUP',
    'PYTHONBREAKPOINT',
    'PYTHONPYCACHEPREFIX',
    'PERL5OPT',
    'PERLIO',
    'RUBYOPT',
    'RUBYSHELL',
    'GEM_HOME',
    'BUNDLE_GEMFILE',
    'JAVA_TOOL_OPTIONS',
    '_JAVA_OPTIONS',
    'JDK_JAVA_OPTIONS',
    'CLASSPATH',
    'PHPRC',
    'PHP_INI_SCAN_DIR',
    'LUA_INIT',
    'LUA_INIT_5_4',
    'LUA_PATH_5_3',
    'LUA_CPATH',
    'TCLLIBPATH',
    'BASH_ENV',
    'ENV',
    'ZDOTDIR',
    'PS4',
    'PROMPT_COMMAND',
    'SHELLOPTS',
    'IFS',
    'GCONV_PATH',
    'GLIBC_TUNABLES',
    'RES_OPTIONS',
    'TZDIR',
    'NODE_OPTIONS',
    'NODE_EXTRA_CA_CERTS',
    'NODE_TLS_REJECT_UNAUTHORIZED',
    'NODE_REPL_EXTERNAL_MODULE',
    'NODE_COMPILE_CACHE',
    'NODE_REDIRECT_WARNINGS',
    'CURL_CA_BUNDLE',
    'REQUESTS_CA_BUNDLE',
    'AWS_CA_BUNDLE',
    'GIT_SSL_CAINFO',
    'EDITOR',
    'VISUAL',
    'PAGER',
    'MANPAGER',
    'BROWSER',
    'SSH_ASKPASS',
    'SUDO_ASKPASS',
    'LESSOPEN',
    'LESSCLOSE',
    'npm_config_registry',
    'NPM_CONFIG_REGISTRY',
  ];
  for (const name of named) t.not(refusal(name), undefined, name);
});

test('ordinary secrets and the deliberately unlisted variables pass', (t) => {
  for (const name of [
    'DB_PASSWORD',
    'API_TOKEN',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'HTTP_PROXY',
    'HTTPS_PROXY',
    'http_proxy',
    'NO_PROXY',
    'NODE_ENV',
    'NODE_AUTH_TOKEN',
    'NPM_TOKEN',
    'GEM_HOST_API_KEY',
    'BUNDLE_ENTERPRISE__CONTRIBSYS__COM',
    'GITHUB_TOKEN',
    'GIT_PASSWORD',
    'PYTHONUNBUFFERED',
    'JAVA_VERSION',
    'LANG',
    'TZ',
    'KUBECONFIG',
  ]) {
    t.is(refusal(name), undefined, name);
  }
});

test('docs/launcher.md lists every refused name and family', (t) => {
  const docs = readFileSync(join(REPO_ROOT, 'docs', 'launcher.md'), 'utf8');
  for (const family of DANGEROUS_FAMILIES) {
    t.true(docs.includes(family.category), family.category);
    for (const name of family.names) t.true(docs.includes(`\`${name}\``), name);
    for (const prefix of family.prefixes) t.true(docs.includes(`\`${prefix}*\``), `${prefix}*`);
  }
});
