// What the command prints when something goes wrong (issue 13, item 11): the message only (the
// stack with --verbose or DEBUG=hypertape), and none of Dawn's start-up warnings, while Dawn's
// errors and our own lines still get through.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDawnFilter } from '../bin/dawn-stderr.js';
import { runNode, type ChildResult } from './child.js';

const s = suite('cli-output');

function filtered(chunks: string[]): string {
  let out = '';
  const f = createDawnFilter((t: string) => (out += t));
  for (const c of chunks) f.push(c);
  f.end();
  return out;
}

s("the filter drops Dawn's Warning/Info blocks, split anywhere, and keeps everything else", () => {
  const text = [
    'Warning: vkCreateInstance: Found no drivers!',
    'Warning: vkCreateInstance failed with VK_ERROR_INCOMPATIBLE_DRIVER',
    '    at CheckVkSuccessImpl (/dawn/src/dawn/native/vulkan/VulkanError.cpp:106)',
    '',
    'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 90 to 16 to fit dynamic offset allocation limit.',
    'hypertape: /data: no such folder',
    'validation:',
    '[Invalid BindGroup] is invalid due to a previous error.',
    ' - While encoding [ComputePassEncoder].',
    'Error: something real',
    'last line without newline',
  ].join('\n');
  const want = 'hypertape: /data: no such folder\nvalidation:\n[Invalid BindGroup] is invalid due to a previous error.\n - While encoding [ComputePassEncoder].\nError: something real\nlast line without newline';
  assert.is(filtered([text]), want);
  // The same text in 7-character pieces.
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += 7) pieces.push(text.slice(i, i + 7));
  assert.is(filtered(pieces), want);
});

/** Runs the real command (bin/hypertape.js), forcing the Dawn filter as on a terminal. */
function command(args: string[], env: Record<string, string> = {}): Promise<ChildResult> {
  return runNode(['bin/hypertape.js', ...args], { env: { ...process.env, HYPERTAPE_FILTER_DAWN: '1', ...env } });
}

s('a file error prints the message only, and no Dawn warnings; --verbose and DEBUG add the stack', async () => {
  const out = mkdtempSync(join(tmpdir(), 'hypertape-cli-'));
  const args = ['hypercleaning', '--quick', '--data-dir', join(out, 'no-such-folder'), '--out', join(out, 'run')];
  try {
    const plain = await command(args);
    assert.is(plain.code, 1);
    assert.match(plain.stderr, /^hypertape: .*no-such-folder: no such folder/m);
    assert.not.match(plain.stderr, /^\s+at /m, `a stack trace was printed:\n${plain.stderr}`);
    assert.not.match(plain.stderr, /^(Warning|Info): /m, `Dawn's warnings reached the terminal:\n${plain.stderr}`);
    assert.is(plain.stderr.trim().split('\n').length, 1, `only the message:\n${plain.stderr}`);
    for (const [extra, env] of [[['--verbose'], {}], [[], { DEBUG: 'hypertape' }]] as const) {
      const loud = await command([...args, ...extra], env);
      assert.is(loud.code, 1);
      assert.match(loud.stderr, /no such folder/);
      assert.match(loud.stderr, /^\s+at loadMnist/m, `no stack with ${extra.join(' ') || 'DEBUG=hypertape'}:\n${loud.stderr}`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

s.run();
