/** The adapter contract (./contract-suite.ts), in-process: the local simulator and Feishu against the mock Open API. */
import { describe } from 'vitest';
import { adapterContract, feishuDriver, localDriver } from './contract-suite';

describe.each([localDriver, feishuDriver])('adapter contract', (make) => adapterContract(make));
