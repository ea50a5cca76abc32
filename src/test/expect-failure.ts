import { LibsqlError } from '@libsql/client';

/** Runs `p`, expecting a LibsqlError (any other error is rethrown), and returns it. */
export async function libsqlFailure(p: Promise<unknown>): Promise<LibsqlError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof LibsqlError) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}
