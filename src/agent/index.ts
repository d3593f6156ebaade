export { generateAgentKey, generateSharedSecret, importSigningKey, jwkThumbprint, type AgentKey } from './keys.js';
export { createRequestSigner, signRequest, type RequestSigner, type RequestToSign, type SignatureHeaders, type SigningOptions } from './sign-request.js';
export { createSignedFetch, type SignedFetchOptions } from './signed-fetch.js';
export { createKeyDirectory, serveKeyDirectory, type KeyDirectory, type KeyDirectoryOptions } from './directory.js';
