import type { Db } from '../../db/client';

/** A database or an open transaction: repositories accept either. */
export type Executor = Db | Parameters<Parameters<Db['transaction']>[0]>[0];
export type { Db };
