import { describe, expect, it } from 'vitest';
import { englishFor, REFUSAL_TEXT, STATUS_TEXT, STATUS_TEXT_EN } from './messages';

describe('English for what people read', () => {
  it.each(Object.entries(REFUSAL_TEXT))('refusal %s has an English sentence', (_code, zh) => {
    const en = englishFor(zh);
    expect(en).toBeDefined();
    expect(en).not.toMatch(/[\u4e00-\u9fff]/);
  });

  it('names every status in both languages', () => {
    expect(Object.keys(STATUS_TEXT_EN).sort()).toEqual(Object.keys(STATUS_TEXT).sort());
  });

  it('leaves a sentence it does not know in Chinese', () => {
    expect(englishFor('有 3 处需要修改，未保存')).toBeUndefined();
  });
});
