import { TlsError } from '../../errors/driver-errors.js';

/** An error of node:tls or OpenSSL: `code` names it, `reason` is OpenSSL's short text. */
type SocketError = Error & { code?: string; reason?: string };

/** Certificate checks of the client that a CA other than `tls.ca` fails. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
]);

/** Alerts a server sends when it wants a (valid) client certificate. */
// OpenSSL 3.0 (Node 20) names an alert's protocol (SSLV3_, TLSV1_, TLSV13_); later OpenSSL
// releases (Node 24) say SSL/TLS_ instead: one pattern for both.
const CLIENT_CERT_ALERT =
  /^ERR_SSL_(SSLV3_|TLSV1_|TLSV13_|SSL\/TLS_)ALERT_(BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|CERTIFICATE_REQUIRED|UNKNOWN_CA|HANDSHAKE_FAILURE|ACCESS_DENIED)$/;

/** Whether `error` comes from the TLS layer (an OpenSSL error or a certificate check). */
export function isTlsLayerError(error: Error | undefined): boolean {
  const code = (error as SocketError | undefined)?.code ?? '';
  return (
    code.startsWith('ERR_SSL_') ||
    code.startsWith('ERR_TLS_') ||
    UNTRUSTED.has(code) ||
    code.startsWith('CERT_') ||
    (error as SocketError | undefined)?.reason !== undefined
  );
}

/**
 * Why the TLS handshake with `address` failed, as a TlsError whose message names the reason and
 * what to check; `error` is the socket's error, if any (none: the server just closed).
 */
export function tlsFailure(address: string, error: Error | undefined): TlsError {
  const failure = error as SocketError | undefined;
  const code = failure?.code;
  let reason: string;
  if (!failure) {
    reason =
      'the server closed the connection during the handshake ' +
      '(a plain-text port, or it refused the client certificate)';
  } else if (code === 'ECONNRESET') {
    reason =
      'the connection was reset during the handshake ' +
      '(a plain-text port, or it refused the client certificate)';
  } else if (code && UNTRUSTED.has(code)) {
    reason =
      `${failure.message} (${code}): the server certificate is not signed by a CA in tls.ca; ` +
      "pass the CA that signed the server's certificate";
  } else if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    reason = `${failure.message} (${code}): set tls.servername to a name the certificate holds`;
  } else if (code && CLIENT_CERT_ALERT.test(code)) {
    reason =
      `the server refused the handshake: ${failure.reason ?? failure.message} (${code}); ` +
      'it may require a client certificate signed by a CA it trusts (tls.cert and tls.key)';
  } else if (failure.reason) {
    reason = `${failure.reason}${code ? ` (${code})` : ''}`;
  } else {
    reason = `${failure.message}${code ? ` (${code})` : ''}`;
  }
  return new TlsError(`${address}: ${reason}`, error);
}

/**
 * The TLS options could not even make a secure context (`tls.connect` threw: a key, certificate
 * or CA that is not PEM, a key that does not match its certificate): a TlsError naming the reason.
 */
export function tlsOptionsFailure(address: string, error: unknown): TlsError {
  const failure = error as SocketError;
  const reason = failure?.reason ?? failure?.message ?? String(error);
  const code = failure?.code ? ` (${failure.code})` : '';
  return new TlsError(
    `${address}: the tls options are unusable: ${reason}${code}; ` +
      'check that tls.key, tls.cert and tls.ca are PEM text (or Buffers) and that the key ' +
      'belongs to the certificate',
    error,
  );
}
