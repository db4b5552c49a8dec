// Starts a TOTP enrollment: a fresh random secret, the otpauth:// URI authenticator apps import,
// and that URI as a QR code. The QR is rendered here to an SVG string so the page needs no
// third-party QR service (which would see the secret).
import { generateSecret, generateURI } from 'otplib';
import QRCode from 'qrcode';
import { checkParameters, TOTP_DEFAULTS, type TotpParameters } from './options.ts';

export interface TotpEnrollmentOptions extends TotpParameters {
  /** Shown by the app above the account, e.g. the tenant's display name. */
  issuer: string;
  /** Identifies the account inside the app, e.g. the user's email. */
  accountName: string;
  /** Secret length in bytes (default 20 = 160 bits, RFC 4226's recommendation). */
  secretBytes?: number;
}

export interface TotpEnrollment {
  /** Base32 secret (no padding); store it encrypted and pass it to verifyTotp. */
  secret: string;
  otpauthUri: string;
  /** A standalone `<svg>` document of the QR code for otpauthUri. */
  qrSvg: string;
}

export async function createTotpEnrollment({
  issuer,
  accountName,
  secretBytes = 20,
  digits = TOTP_DEFAULTS.digits,
  period = TOTP_DEFAULTS.period,
  algorithm = TOTP_DEFAULTS.algorithm,
}: TotpEnrollmentOptions): Promise<TotpEnrollment> {
  checkParameters({ digits, period, algorithm });
  const secret = generateSecret({ length: secretBytes });
  // A colon would split issuer from account in the label; apps disagree on how to read it.
  const label = accountName.replaceAll(':', ' ');
  const otpauthUri = generateURI({ issuer: issuer.replaceAll(':', ' '), label, secret, digits, period, algorithm });
  const qrSvg = await QRCode.toString(otpauthUri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return { secret, otpauthUri, qrSvg };
}
