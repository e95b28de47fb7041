import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import { IngestError } from '../ingest/errors.js';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

/**
 * Undoes Content-Encoding. The size limit applies to the decompressed bytes
 * too, so a small gzip bomb gets 413 instead of filling memory.
 */
export async function decompress(body: Buffer, encoding: string | undefined, maxBytes: number): Promise<Buffer> {
  const enc = (encoding ?? 'identity').trim().toLowerCase();
  if (enc === '' || enc === 'identity') return body;
  if (enc !== 'gzip' && enc !== 'deflate') {
    throw new IngestError('invalid_argument', `unsupported Content-Encoding "${enc}": use gzip, deflate or none`);
  }
  try {
    return enc === 'gzip' ? await gunzipAsync(body, { maxOutputLength: maxBytes }) : await inflateAsync(body, { maxOutputLength: maxBytes });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new IngestError('payload_too_large', `request body decompresses to more than ${maxBytes} bytes`);
    }
    throw new IngestError('invalid_argument', `corrupt ${enc} body: ${(e as Error).message}`);
  }
}
