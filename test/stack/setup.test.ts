// Given the tools devkit/toolchain/setup.sh installed, `npm test` and `npm run demo` skip setup — the hash setup.sh
// wrote of its inputs is the one Node computes — and run it when a tool is missing, naming the tool.
import { readFileSync } from 'node:fs';
import { inputsHash, setupNeeded, STAMP } from '../../devkit/toolchain/setup.js';

test('after a completed setup nothing needs to run: setup.sh and Node hash its inputs alike', () => {
  expect(readFileSync(STAMP, 'utf8').trim()).toBe(inputsHash());
  expect(setupNeeded()).toBeUndefined();
});

test('a tool that is missing makes setup needed, naming the tool', () => {
  const saved = process.env.TIDEGATE_KWOKCTL_BIN;
  process.env.TIDEGATE_KWOKCTL_BIN = '/nonexistent/kwokctl';
  try {
    expect(setupNeeded()).toBe('missing: kwokctl');
  } finally {
    if (saved === undefined) delete process.env.TIDEGATE_KWOKCTL_BIN;
    else process.env.TIDEGATE_KWOKCTL_BIN = saved;
  }
});
