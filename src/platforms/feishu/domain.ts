/**
 * FEISHU_DOMAIN (`feishu`, `lark`, or a base URL such as a local mock) → the Open API's base
 * URL, the hosts the SDK's own Domain.Feishu / Domain.Lark stand for. Plain strings, so the
 * sending path needs no SDK; the SDK's WSClient takes a base URL as well.
 */
export function feishuBaseUrl(domain: string): string {
  if (domain === 'feishu') return 'https://open.feishu.cn';
  if (domain === 'lark') return 'https://open.larksuite.com';
  return domain.replace(/\/+$/, '');
}
