import { BaseSequencer, type TestSpecification } from 'vitest/node';

// Process-level tests are the longest (a backup drill, a crash, two processes): started first, they
// overlap the many short files instead of running alone at the end. Within a tier, Vitest's order
// (slowest first once it has timings, larger files first before).
const TIERS = ['e2e', 'integration', 'contract', 'unit'];
const tier = (spec: TestSpecification) => {
  const index = TIERS.findIndex((t) => spec.moduleId.includes(`/test/${t}/`));
  return index < 0 ? TIERS.length : index;
};

export default class TierSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return (await super.sort(files)).sort((a, b) => tier(a) - tier(b));
  }
}
