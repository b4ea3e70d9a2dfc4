// Made by scripts/buildKernels.ts from gatherRows.wat: do not edit.
/** The compiled module, base64 (165 bytes). */
export const GATHER_ROWS_WASM = 'AGFzbQEAAAABDAFgB39/f39/f38BfwIPAQNlbnYGbWVtb3J5AgAAAwIBAAcOAQpnYXRoZXJSb3dzAAAKaAFmAQJ/AkADQCAHIANPDQEgASAHQQJ0aigCACEIIAggBEkEQCACIAcgBWxqIAAgCCAFbGogBfwKAAAFIAYgCCAERnEEQCACIAcgBWxqQQAgBfwLAAUgBw8LCyAHQQFqIQcMAAsLQX8L';
