import { describe, expect, it } from '@jest/globals';
import { tlsFailure } from '../../../libs/zookeeper/src/driver/wire/tls-failure.js';

/** A socket error as node:tls reports it: a code and OpenSSL's short reason. */
const socketError = (code: string, reason: string) =>
  Object.assign(new Error(`SSL alert: ${reason}`), { code, reason });

describe('tlsFailure (pure: how a failed handshake is explained)', () => {
  // OpenSSL 3.0 (Node 20) and later releases (Node 24) name the same alerts differently.
  it.each([
    ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'sslv3 alert bad certificate'],
    ['ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE', 'ssl/tls alert bad certificate'],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'tlsv13 alert certificate required'],
    ['ERR_SSL_SSL/TLS_ALERT_CERTIFICATE_REQUIRED', 'ssl/tls alert certificate required'],
    ['ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN', 'sslv3 alert certificate unknown'],
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'tlsv1 alert unknown ca'],
  ])(
    '%s: the server refused our certificate, so tls.cert and tls.key are named',
    (code, reason) => {
      const error = tlsFailure('zk1:2281', socketError(code, reason));
      expect(error.name).toBe('TlsError');
      expect(error.message).toContain(
        `zk1:2281: the server refused the handshake: ${reason} (${code})`,
      );
      expect(error.message).toContain('tls.cert and tls.key');
    },
  );

  it('a server certificate the CA does not vouch for names tls.ca; a wrong name, tls.servername', () => {
    const untrusted = Object.assign(new Error('unable to verify the first certificate'), {
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    expect(tlsFailure('zk1:2281', untrusted).message).toMatch(/not signed by a CA in tls\.ca/);
    const wrongName = Object.assign(
      new Error("Hostname/IP does not match certificate's altnames"),
      {
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
      },
    );
    expect(tlsFailure('zk1:2281', wrongName).message).toMatch(/set tls\.servername/);
    expect(tlsFailure('zk1:2281', undefined).message).toMatch(
      /closed the connection during the handshake/,
    );
  });
});
