import type { CheckDefinition } from './check.js';
import { GUEST_HELPER_PATH } from './helper.js';

/** What the `crypto` check encrypts through virtio_crypto_aes_cbc: AES-128-CBC of `bytes` zero bytes under this key and IV (hex). */
export const CRYPTO_VECTOR = { key: '000102030405060708090a0b0c0d0e0f', iv: '0f0e0d0c0b0a09080706050403020100', bytes: 4096 } as const;

/**
 * `crypto` (needs {@link GUEST_HELPER_PATH}): /proc/crypto must list a `virtio_crypto_*` driver
 * for `cbc(aes)` whose in-kernel self-test passed (the crypto manager tests every algorithm as it
 * registers); then the helper encrypts {@link CRYPTO_VECTOR} through AF_ALG bound to the driver
 * name virtio_crypto_aes_cbc (so the virtio device, not AES-NI, does it). JSON: drivers (every
 * virtio_crypto driver name in /proc/crypto), selftest (of virtio_crypto_aes_cbc), sha256 (of the
 * ciphertext), head (its first 16 bytes, hex), error.
 */
export const cryptoCheck: CheckDefinition = {
  name: 'crypto',
  description: 'virtio-crypto: /proc/crypto lists virtio_crypto_aes_cbc with a passed self-test; AES-CBC through it via AF_ALG',
  shell: `local io=${GUEST_HELPER_PATH} drivers="" selftest="" sum="" head="" ok
drivers=$(awk '/^driver/ && $3 ~ /^virtio_crypto/ {printf "%s\\"%s\\"", (n++ ? "," : ""), $3}' /proc/crypto)
selftest=$(awk '/^driver/ {d=$3} /^selftest/ && d == "virtio_crypto_aes_cbc" {print $3; exit}' /proc/crypto)
[ -n "$selftest" ] || VMMTEST_ERR="find: no virtio_crypto_aes_cbc in /proc/crypto"
[ -z "$VMMTEST_ERR" ] && [ "$selftest" != passed ] && VMMTEST_ERR="selftest: $selftest"
[ -x "$io" ] || VMMTEST_ERR="\${VMMTEST_ERR:-helper: no $io in the guest}"
if [ -z "$VMMTEST_ERR" ]; then
  dd if=/dev/zero bs=${CRYPTO_VECTOR.bytes} count=1 2> /dev/null | "$io" cipher virtio_crypto_aes_cbc ${CRYPTO_VECTOR.key} ${CRYPTO_VECTOR.iv} 30 > /tmp/crypto.out 2> /tmp/crypto.err || VMMTEST_ERR="cipher: $(tr '\\n"\\\\' '   ' < /tmp/crypto.err | head -c 120)"
  sum=$(sha256sum < /tmp/crypto.out | cut -d' ' -f1)
  head=$(od -An -tx1 -N16 /tmp/crypto.out | tr -d ' \\n')
fi
[ -z "$VMMTEST_ERR" ] && ok=true || ok=false
vmmtest_result $ok "\\"drivers\\":[$drivers],\\"selftest\\":\\"$selftest\\",\\"sha256\\":\\"$sum\\",\\"head\\":\\"$head\\",\\"error\\":\\"$VMMTEST_ERR\\""`,
};
