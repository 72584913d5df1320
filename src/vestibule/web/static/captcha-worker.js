"use strict";
// The CAPTCHA's proof of work (see src/vestibule/core/proof_of_work.py): for each puzzle, the first nonce whose
// SHA-256 over seed (16 bytes) | puzzle number (4, big-endian) | nonce (4, big-endian) starts below the target.
// Plain JavaScript rather than Web Crypto: one block per hash is faster here, and it also runs on http origins.

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);
const H = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
  0x5be0cd19]);
const W = new Int32Array(64);
const NONCE_LIMIT = 1 << 24;

// The first 32 bits of SHA-256(seed | number | nonce), as an unsigned number.
function head(seed, number, nonce) {
  W[0] = seed[0]; W[1] = seed[1]; W[2] = seed[2]; W[3] = seed[3];
  W[4] = number; W[5] = nonce; W[6] = 0x80000000 | 0;
  for (let t = 7; t < 15; t++) W[t] = 0;
  W[15] = 192;  // the message's length in bits
  for (let t = 16; t < 64; t++) {
    const x = W[t - 15], y = W[t - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[t] = (W[t - 16] + s0 + W[t - 7] + s1) | 0;
  }
  let a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[t] + W[t]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
  }
  return (a + H[0]) >>> 0;
}

// "~" and the nonces, 3 bytes each, in unpadded base64url; null if the puzzle is malformed or unsolved.
function solve(puzzle) {
  const hex = String(puzzle.seed), count = puzzle.count, target = puzzle.target;
  if (!/^[0-9a-f]{32}$/.test(hex) || !Number.isInteger(count) || count < 1 || count > 16 ||
      !Number.isInteger(target) || target < 1 || target > 2 ** 32) {
    return null;
  }
  const seed = new Int32Array(4);
  for (let i = 0; i < 4; i++) seed[i] = parseInt(hex.slice(8 * i, 8 * i + 8), 16) | 0;
  let bytes = "";
  for (let number = 0; number < count; number++) {
    let nonce = 0;
    while (head(seed, number, nonce) >= target) {
      if (++nonce >= NONCE_LIMIT) return null;
    }
    bytes += String.fromCharCode((nonce >>> 16) & 255, (nonce >>> 8) & 255, nonce & 255);
  }
  return "~" + btoa(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

self.onmessage = (event) => {
  const proof = solve(event.data || {});
  self.postMessage(proof ? { proof: proof } : { failed: true });
};
