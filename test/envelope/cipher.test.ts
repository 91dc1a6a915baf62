import test from 'ava';
import { DATA_KEY_BYTES, open, seal } from '../../src/envelope/cipher.js';
import { DIGEST_NAMES } from '../../src/envelope/digests.js';

const dataKey = () => Buffer.from(Array.from({ length: DATA_KEY_BYTES }, (_, index) => index));
const plaintext = Buffer.from('hunter2 é', 'utf8');

test('sealing the SPEC known answer gives credstash’s ciphertext and SHA256 HMAC', (t) => {
  const sealed = seal(plaintext, dataKey(), 'SHA256');
  t.is(sealed.ciphertext.toString('base64'), 'mCgY2i/LrcVlXw==');
  t.is(sealed.hmac, 'a28cd3b62dd46bb0352c0499ee0702b9c351f438346305551091d173e5b4974b');
});

test('SHA is HMAC-SHA1 and MD5 is HMAC-MD5, as the SPEC known answers say', (t) => {
  t.is(seal(plaintext, dataKey(), 'SHA').hmac, 'c8eed720daa70d9d677255ca50f0860918310010');
  t.is(seal(plaintext, dataKey(), 'MD5').hmac, '2cc094789c5ba20c4dc19a7ac53c9891');
});

for (const digest of DIGEST_NAMES) {
  test(`a value sealed with ${digest} opens to the same bytes`, (t) => {
    const sealed = seal(plaintext, dataKey(), digest);
    t.deepEqual(open(sealed.ciphertext, sealed.hmac, dataKey(), digest), plaintext);
  });
}

test('the HMAC is accepted in upper case', (t) => {
  const sealed = seal(plaintext, dataKey(), 'SHA256');
  t.deepEqual(open(sealed.ciphertext, sealed.hmac.toUpperCase(), dataKey(), 'SHA256'), plaintext);
});

test('a flipped ciphertext bit is rejected before decryption', (t) => {
  const sealed = seal(plaintext, dataKey(), 'SHA256');
  sealed.ciphertext[0]! ^= 1;
  t.is(open(sealed.ciphertext, sealed.hmac, dataKey(), 'SHA256'), undefined);
});

test('an HMAC made with another digest, truncated, or not hex is rejected', (t) => {
  const sealed = seal(plaintext, dataKey(), 'SHA256');
  t.is(open(sealed.ciphertext, sealed.hmac, dataKey(), 'SHA512'), undefined);
  t.is(open(sealed.ciphertext, sealed.hmac.slice(0, 62), dataKey(), 'SHA256'), undefined);
  t.is(open(sealed.ciphertext, `${sealed.hmac.slice(0, 62)}zz`, dataKey(), 'SHA256'), undefined);
});

test('another data key fails the HMAC check', (t) => {
  const sealed = seal(plaintext, dataKey(), 'SHA256');
  const other = dataKey();
  other[40] = 0xff;
  t.is(open(sealed.ciphertext, sealed.hmac, other, 'SHA256'), undefined);
});

test('the empty value seals to empty contents with the HMAC of zero bytes', (t) => {
  const sealed = seal(Buffer.alloc(0), dataKey(), 'SHA256');
  t.is(sealed.ciphertext.length, 0);
  t.deepEqual(open(sealed.ciphertext, sealed.hmac, dataKey(), 'SHA256'), Buffer.alloc(0));
});

test('a data key that is not 64 bytes is refused', (t) => {
  t.throws(() => seal(plaintext, Buffer.alloc(32), 'SHA256'), { instanceOf: RangeError });
});

test('opening leaves no copy of the plaintext besides the buffer it returns', (t) => {
  const value = Buffer.from('a value that must not be copied around', 'utf8');
  const sealed = seal(value, dataKey(), 'SHA256');
  // Every buffer Buffer.concat sees or makes while opening: the only way a copy could be made.
  const concat = Buffer.concat;
  const seen: Uint8Array[] = [];
  Buffer.concat = ((list: readonly Uint8Array[], length?: number) => {
    const joined = concat(list, length);
    seen.push(...list, joined);
    return joined;
  }) as typeof Buffer.concat;
  let opened: Buffer | undefined;
  try {
    opened = open(sealed.ciphertext, sealed.hmac, dataKey(), 'SHA256');
  } finally {
    Buffer.concat = concat;
  }
  t.deepEqual(opened, value);
  opened!.fill(0);
  const copies = seen.filter((buffer) => Buffer.from(buffer).includes(value.subarray(0, 16)));
  t.is(copies.length, 0, 'a copy of the plaintext is left unzeroed');
});
