import { z } from 'zod';

/**
 * The one schema for the environment. `parseEnv` takes a plain record so Node
 * (process.env) and Workers (the env binding) share it; it never reads process.env itself.
 */
export const EnvSchema = z.object({
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
});

export type Config = z.infer<typeof EnvSchema>;

export type EnvResult = { ok: true; config: Config } | { ok: false; errors: string[] };

export function parseEnv(record: Record<string, string | undefined>): EnvResult {
  // An empty string in the environment means "not set", as shells usually intend.
  const cleaned = Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (parsed.success) return { ok: true, config: parsed.data };
  const errors = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '(environment)');
    const given = cleaned[name];
    return `${name}: expected ${issue.message}${given === undefined ? '' : `, got ${JSON.stringify(given)}`}`;
  });
  return { ok: false, errors };
}
