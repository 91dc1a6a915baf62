import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signerOf } from './kms-server.js';

/**
 * A tiny AWS STS for tests: `AssumeRole` over the query protocol (form-encoded POST, XML reply)
 * that @aws-sdk/client-sts speaks, on 127.0.0.1. Every call is recorded with the access key id that
 * signed it, and each one hands out fresh temporary credentials whose access key id ends in
 * `ASSUMED`. Roles can be denied to produce STS's AccessDenied.
 */
export const ASSUMED_KEY_SUFFIX = 'ASSUMED';

const DEFAULT_LIFETIME_MS = 3_600_000;

export interface AssumeRoleCall {
  readonly roleArn: string | undefined;
  readonly sessionName: string | undefined;
  /** The access key id from the request's SigV4 `Credential=` (the caller's base credentials). */
  readonly accessKeyId: string | undefined;
  /** The signing region from the same credential scope. */
  readonly region: string | undefined;
}

export interface StsServer {
  /** `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL_STS`. */
  readonly endpoint: string;
  readonly calls: readonly AssumeRoleCall[];
  /** The access key ids handed out, in order (one per successful AssumeRole). */
  readonly issuedKeys: readonly string[];
  /** AssumeRole of `roleArn` is refused with AccessDenied until allowed again. */
  deny(roleArn: string, denied?: boolean): void;
  /** How long issued credentials stay valid (default one hour). */
  setLifetime(ms: number): void;
  /** Forget calls, issued keys, denials and the lifetime. */
  reset(): void;
  close(): Promise<void>;
}

function xmlEscape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

export async function startStsServer(): Promise<StsServer> {
  const calls: AssumeRoleCall[] = [];
  const issuedKeys: string[] = [];
  const denied = new Set<string>();
  let lifetimeMs = DEFAULT_LIFETIME_MS;

  function send(response: ServerResponse, status: number, xml: string): void {
    const body = Buffer.from(xml);
    response.writeHead(status, {
      'content-type': 'text/xml',
      'content-length': body.length,
      'x-amzn-requestid': randomUUID(),
    });
    response.end(body);
  }

  function error(response: ServerResponse, status: number, code: string, message: string) {
    send(
      response,
      status,
      `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
    );
  }

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const action = form.get('Action');
    if (action !== 'AssumeRole') {
      error(response, 400, 'InvalidAction', `${action ?? '(none)'} is not supported here`);
      return;
    }
    const signer = signerOf(request.headers.authorization);
    const roleArn = form.get('RoleArn') ?? undefined;
    const sessionName = form.get('RoleSessionName') ?? undefined;
    calls.push({ roleArn, sessionName, ...signer });
    if (signer.accessKeyId === undefined) {
      error(response, 403, 'MissingAuthenticationToken', 'Missing Authentication Token');
      return;
    }
    if (roleArn === undefined || sessionName === undefined) {
      error(response, 400, 'ValidationError', 'RoleArn and RoleSessionName are required');
      return;
    }
    if (denied.has(roleArn)) {
      error(
        response,
        403,
        'AccessDenied',
        `User: arn:aws:iam::123456789012:user/base is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
      );
      return;
    }
    const accessKeyId = `ASIA${String(issuedKeys.length + 1).padStart(4, '0')}${ASSUMED_KEY_SUFFIX}`;
    issuedKeys.push(accessKeyId);
    const expiration = new Date(Date.now() + lifetimeMs).toISOString();
    const roleName = roleArn.replace(/^.*\//, '');
    send(
      response,
      200,
      `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>` +
        `<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/${xmlEscape(roleName)}/${xmlEscape(sessionName)}</Arn>` +
        `<AssumedRoleId>AROATESTROLEID:${xmlEscape(sessionName)}</AssumedRoleId></AssumedRoleUser>` +
        `<Credentials><AccessKeyId>${accessKeyId}</AccessKeyId>` +
        `<SecretAccessKey>assumed-test-secret-${issuedKeys.length}</SecretAccessKey>` +
        `<SessionToken>assumed-test-token-${issuedKeys.length}</SessionToken>` +
        `<Expiration>${expiration}</Expiration></Credentials>` +
        `</AssumeRoleResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
    );
  }

  const server = createServer((request, response) => {
    serve(request, response).catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    issuedKeys,
    deny(roleArn, isDenied = true) {
      if (isDenied) denied.add(roleArn);
      else denied.delete(roleArn);
    },
    setLifetime(ms) {
      lifetimeMs = ms;
    },
    reset() {
      calls.length = 0;
      issuedKeys.length = 0;
      denied.clear();
      lifetimeMs = DEFAULT_LIFETIME_MS;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((closeError) => (closeError ? reject(closeError) : resolve()));
      }),
  };
}
