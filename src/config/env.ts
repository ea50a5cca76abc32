import { z } from 'zod';

/**
 * The one schema for the environment. `parseEnv` takes a plain record so Node
 * (process.env) and Workers (the env binding) share it; it never reads process.env itself.
 */
const positiveInt = (what: string) =>
  z.string().regex(/^\d+$/, what).transform(Number).pipe(z.number().int().min(1, what));

const BaseSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^(file:|libsql:\/\/|https?:\/\/|wss?:\/\/|:memory:$)/, 'a libSQL URL: file:path, libsql://host, https://host or :memory:')
    .default('file:data/app.db'),
  DATABASE_AUTH_TOKEN: z.string().min(1, 'a non-empty token').optional(),
  PORT: z
    .string()
    .regex(/^-?\d+(\.\d+)?$/, 'a port number')
    .transform(Number)
    .pipe(z.number().int('an integer port number').min(1, 'a port from 1 to 65535').max(65535, 'a port from 1 to 65535'))
    .default(8787),
  HOST: z.string().min(1, 'a host name or address').default('127.0.0.1'),
  SEED_DEMO: z
    .enum(['true', 'false', '1', '0'], { message: 'true or false' })
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
  /**
   * The chat simulator (pages and form posts at /, /chat, /local): it has no login, so it is for
   * a trusted machine. Unset: on for `npm start` (which listens on 127.0.0.1), off on Workers
   * (a public URL).
   */
  SIMULATOR: z.enum(['on', 'off'], { message: 'on or off' }).optional(),
  // Feishu (Lark). With none of these set, the local simulator is the only platform.
  FEISHU_APP_ID: z.string().regex(/^cli_[A-Za-z0-9]+$/, 'a Feishu app id like cli_a1b2c3').optional(),
  FEISHU_APP_SECRET: z.string().min(8, 'the app secret from the developer console').optional(),
  FEISHU_ENCRYPT_KEY: z.string().min(1, 'the Encrypt Key from 事件与回调 > 加密策略').optional(),
  FEISHU_VERIFICATION_TOKEN: z.string().min(1, 'the Verification Token from 事件与回调 > 加密策略').optional(),
  FEISHU_DOMAIN: z
    .string()
    .regex(/^(feishu|lark|https?:\/\/\S+)$/, 'feishu, lark, or a base URL like https://open.feishu.cn')
    .default('feishu'),
  FEISHU_MODE: z.enum(['webhook', 'ws'], { message: 'webhook or ws' }).default('webhook'),
  FEISHU_RATE_PER_SECOND: positiveInt('a whole number of messages per second').default(50),
  FEISHU_RATE_PER_MINUTE: positiveInt('a whole number of messages per minute').default(1000),
  FEISHU_RATE_PER_USER_PER_SECOND: positiveInt('a whole number of messages per second').default(5),
});

const FEISHU_VARS = ['FEISHU_APP_ID', 'FEISHU_APP_SECRET', 'FEISHU_ENCRYPT_KEY', 'FEISHU_VERIFICATION_TOKEN'] as const;

/** Settings that only make sense together are checked together, naming each variable. */
export const EnvSchema = BaseSchema.superRefine((env, ctx) => {
  const anyFeishu = FEISHU_VARS.some((k) => env[k] !== undefined);
  if (!anyFeishu) return;
  if (!env.FEISHU_APP_ID) ctx.addIssue({ code: 'custom', path: ['FEISHU_APP_ID'], message: 'the app id (cli_…) whenever another FEISHU_ setting is given' });
  if (!env.FEISHU_APP_SECRET) ctx.addIssue({ code: 'custom', path: ['FEISHU_APP_SECRET'], message: 'the app secret whenever FEISHU_APP_ID is given' });
  if (env.FEISHU_MODE === 'webhook' && !env.FEISHU_ENCRYPT_KEY && !env.FEISHU_VERIFICATION_TOKEN)
    ctx.addIssue({ code: 'custom', path: ['FEISHU_VERIFICATION_TOKEN'], message: 'FEISHU_ENCRYPT_KEY or FEISHU_VERIFICATION_TOKEN in webhook mode, so callbacks can be verified' });
});

export type Config = z.infer<typeof EnvSchema>;

export interface FeishuConfig {
  readonly appId: string;
  readonly appSecret: string;
  readonly encryptKey?: string;
  readonly verificationToken?: string;
  readonly domain: string;
  readonly mode: 'webhook' | 'ws';
  readonly rate: { readonly perSecond: number; readonly perMinute: number; readonly perUserPerSecond: number };
}

/** The Feishu settings, or null when Feishu is not configured. */
export function feishuConfig(c: Config): FeishuConfig | null {
  if (!c.FEISHU_APP_ID || !c.FEISHU_APP_SECRET) return null;
  return {
    appId: c.FEISHU_APP_ID,
    appSecret: c.FEISHU_APP_SECRET,
    encryptKey: c.FEISHU_ENCRYPT_KEY,
    verificationToken: c.FEISHU_VERIFICATION_TOKEN,
    domain: c.FEISHU_DOMAIN,
    mode: c.FEISHU_MODE,
    rate: { perSecond: c.FEISHU_RATE_PER_SECOND, perMinute: c.FEISHU_RATE_PER_MINUTE, perUserPerSecond: c.FEISHU_RATE_PER_USER_PER_SECOND },
  };
}

/** Values never echoed back in an error message. */
const SECRETS = new Set(['DATABASE_AUTH_TOKEN', 'FEISHU_APP_SECRET', 'FEISHU_ENCRYPT_KEY', 'FEISHU_VERIFICATION_TOKEN']);

export type EnvResult = { ok: true; config: Config } | { ok: false; errors: string[] };

export function parseEnv(record: Record<string, string | undefined>): EnvResult {
  // An empty string in the environment means "not set", as shells usually intend.
  const cleaned = Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (parsed.success) return { ok: true, config: parsed.data };
  const errors = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '(environment)');
    const given = cleaned[name];
    const shown = given === undefined ? '' : SECRETS.has(name) ? ' (value hidden)' : `, got ${JSON.stringify(given)}`;
    return `${name}: expected ${issue.message}${shown}`;
  });
  return { ok: false, errors };
}
