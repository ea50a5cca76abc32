import * as lark from '@larksuiteoapi/node-sdk';

/** FEISHU_DOMAIN: `feishu`, `lark`, or a base URL (a local mock in tests). */
export function sdkDomain(domain: string): lark.Domain | string {
  if (domain === 'feishu') return lark.Domain.Feishu;
  if (domain === 'lark') return lark.Domain.Lark;
  return domain.replace(/\/+$/, '');
}
