import fc from 'fast-check';

/** Pieces of every kind of finding and the characters that sit next to them: what generated detector inputs are made of. */
export const PIECES = [
  // e-mail addresses and parts of them
  'jane.doe@example.com', 'a@b.co', 'x..y@sub.domain.org', '@', '@@', 'user+tag@', '.com', '.c', 'mail.', '%',
  // tokens and key-like runs
  'AKIAIOSFODNN7EXAMPLE', 'AKIA', 'ghp_', 'github_pat_', 'xoxb-', 'sk_live_', 'sk-', 'sk-proj-', 'AIza', 'a1B2c3D4e5',
  'abcdefghijklmnop', 'Zx9Qw8Er7Ty6Ui5Op4As3Df', '0123456789', 'eyJ', 'eyJhbGciOiJIUzI1NiJ9', '.eyJ', '.', '-', '_', '--',
  '-----BEGIN PRIVATE KEY-----', '-----END PRIVATE KEY-----', '-----BEGIN RSA PRIVATE KEY-----', 'MIIEvQIBADAN',
  'api_key', 'token', 'Password', 'secret', ':', '=', '"', "'", '= "',
  // seed phrases
  'seed phrase', 'recovery words', 'mnemonic word', 'abandon', 'ability', 'able', 'zoo', 'abandonment',
  // numbers: cards, SSNs, phones, IBANs
  '4111 1111 1111 1111', '4111111111111111', '123-45-6789', '000-12-3456', '+1 (555) 123-4567', '555.123.4567', '+',
  '(', ')', '1', '12', '123', '1234', 'DE89 3704 0044 0532 0130 00', 'DE89370400440532013000', 'GB', 'DE89',
  // words and separators
  'Hi', 'the', 'receipts', ' ', ' ', '  ', '\t', '\n', ', ', '<', '>', '/', 'é',
];

/** Up to 60 pieces glued together. */
export const text = fc.array(fc.constantFrom(...PIECES), { maxLength: 60 }).map((parts) => parts.join(''));
