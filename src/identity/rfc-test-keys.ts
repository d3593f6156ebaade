/**
 * RFC 7638 thumbprints of the keys published in RFC 9421 Appendix B.1 (and copied into countless examples).
 * Anyone can sign with them, so production mode refuses them in the registry and in fetched key directories.
 */
export const RFC9421_TEST_KEY_THUMBPRINTS: ReadonlySet<string> = new Set([
  'BHj8s0GPnMEQtkaULIM-PLgEhLBbuGUQ1vMxmBWZzEo', // B.1.1 test-key-rsa
  'oD0HwocPBSfpNy5W3bpJeyFGY_IQ_YpqxSjQ3Yd-CLA', // B.1.2 test-key-rsa-pss
  'ydQXMtvbsOsZyFir-Y7A8t7fKEM1gbKPvyFkdpu4fvI', // B.1.3 test-key-ecc-p256
  'poqkLGiymh_W0uP6PZFw-dvez3QJT5SolqXBCW38r0U', // B.1.4 test-key-ed25519
  'CB3RFzX-1pAtHPl7fOKnQgQV1gnrFFXGXoObwmcm4rY', // B.1.5 test-shared-secret (oct JWK)
]);
