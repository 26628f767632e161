// The experiments the `hypertape` command knows, in the order its help lists them.
// To add one: define it with defineExperiment (src/experiments/registry.ts) and list it here.
import type { Experiment } from './registry.js';
import { toy } from './toy.js';
import { hypercleaning } from './hypercleaning.js';
import { taskInteraction } from './task-interaction.js';
import { omniglot } from './omniglot.js';

export const experiments: readonly Experiment<any>[] = [toy, hypercleaning, taskInteraction, omniglot];

export function findExperiment(name: string): Experiment<any> | undefined {
  return experiments.find((e) => e.name === name);
}
