import test from 'ava';
import { IntegrityError } from '../../src/errors.js';
import { decryptItem } from '../../src/secrets/decrypt-item.js';
import { attributesFromWire, itemFromAttributes } from '../../src/stores/item.js';
import { loadVectors, vectorKeyService } from '../support/vectors.js';

const vectors = loadVectors();
const keys = vectorKeyService(vectors);

test('the vector file holds positives and negatives written by credstash', (t) => {
  t.true(vectors.filter((vector) => vector.expect === 'ok').length >= 20);
  t.is(vectors.filter((vector) => vector.expect === 'integrity-error').length, 3);
});

for (const vector of vectors) {
  const item = itemFromAttributes(attributesFromWire(vector.item));
  if (vector.expect === 'ok') {
    test(`credstash vector ${vector.id} decrypts to its recorded plaintext`, async (t) => {
      const expected = vector.plaintext;
      if (expected === null) return t.fail('a positive vector must record its plaintext');
      const value = await decryptItem(keys, item, vector.context);
      t.is(value.toString('utf8'), expected);
    });
  } else {
    test(`credstash vector ${vector.id} fails with an integrity error naming the credential`, async (t) => {
      const error = await t.throwsAsync(decryptItem(keys, item, vector.context), {
        instanceOf: IntegrityError,
      });
      t.regex(error.message, /integrity/);
      t.true(error.message.includes(item.name));
      t.true(error.message.includes(item.version));
    });
  }
}

test('a vector read with the wrong context fails in the key service, not with wrong plaintext', async (t) => {
  const vector = vectors.find((candidate) => Object.keys(candidate.context).length > 0)!;
  const item = itemFromAttributes(attributesFromWire(vector.item));
  const error = await t.throwsAsync(decryptItem(keys, item, {}));
  t.is((error as { code?: string }).code, 'KEY_SERVICE');
  t.true(error.message.includes(item.name));
});
