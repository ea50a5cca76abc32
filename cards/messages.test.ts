import { describe, expect, it } from 'vitest';
import { englishFor, ledgerFieldErrorText, ledgerFieldErrorTextFor, REFUSAL_TEXT, STATUS_TEXT, STATUS_TEXT_EN } from './messages';

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

describe('a missing ledger answer', () => {
  const missing = { field: 'f_x', label: '是否整改', code: 'required' as const };
  const missingWhen = { ...missing, params: { whenLabel: '是否存在隐患', whenAnswer: '是' } };

  it.each([
    ['choice', '请选择「是否整改」'],
    ['yesno', '请选择「是否整改」'],
    ['date', '请选择「是否整改」'],
    ['text', '请填写「是否整改」'],
    ['number', '请填写「是否整改」'],
    ['link', '请填写「是否整改」'],
  ] as const)('of a %s field says %s', (kind, text) => {
    expect(ledgerFieldErrorTextFor(missing, kind)).toBe(text);
  });

  it('says 请选择 for a select required by another answer too', () => {
    expect(ledgerFieldErrorTextFor(missingWhen, 'yesno')).toBe('「是否存在隐患」选择“是”时，请选择「是否整改」');
    expect(ledgerFieldErrorText(missingWhen)).toBe('「是否存在隐患」选择“是”时，请填写「是否整改」');
  });
});
