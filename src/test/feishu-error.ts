import { expect } from 'vitest';
import { FeishuError } from '../platforms/feishu/client';

/** Runs `p`, expecting a FeishuError, and returns it. */
export async function feishuError(p: Promise<unknown>): Promise<FeishuError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(FeishuError);
    return e as FeishuError;
  }
  throw new Error('expected the call to fail');
}
