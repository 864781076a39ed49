// Reads a QR code from a PNG (as a phone's camera would): prints its text.
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import jsQR from 'jsqr';

const png = PNG.sync.read(readFileSync(process.argv[2]));
const code = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
if (!code) { console.error('no QR code found'); process.exit(1); }
process.stdout.write(code.data);
