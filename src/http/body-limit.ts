/** 1 MiB: more than any callback or form needs, little enough that a flood cannot exhaust memory. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Reads a request body, or returns null as soon as it passes `maxBytes`. A declared
 * Content-Length above the limit is refused before reading; a smaller one is not trusted
 * (chunked bodies have none), so the bytes are counted as they arrive.
 */
export async function readBodyLimited(req: Request, maxBytes = MAX_BODY_BYTES): Promise<Uint8Array | null> {
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (declared > maxBytes) return null;
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}
