import { strict as assert } from 'assert';
import { SingleStepLearner } from '../../src/marl/singlestep';
import { differenceRewards } from '../../src/credit';
import { dilutedContributionGame } from '../../src/marl/envs/games';

const NUM_AGENTS = 20;
const THRESHOLD = 0.9;
const BATCH = 8;
const BUDGET = 4000;

/** Evaluations until a proposed batch's mean team reward reaches THRESHOLD (REINFORCE per agent). */
function episodesToThreshold(credit: 'perAgent' | 'shared', seed: number): number {
  const game = dilutedContributionGame({ numAgents: NUM_AGENTS, numActions: 4, seed });
  const L = new SingleStepLearner({
    agents: Array.from({ length: NUM_AGENTS }, () => ({ vocab: [4] })),
    seed,
    credit,
    offPolicy: false,
    divergenceWeight: 0,
    actorLr: 0.05,
  });
  let episodes = 0;
  try {
    while (episodes < BUDGET) {
      const batch = L.propose(BATCH);
      const joint = batch.map((j) => j.map((tokens) => tokens[0]));
      const team: number[] = [];
      const perAgent: number[][] = [];
      for (const a of joint) {
        game.reset(episodes);
        const G = game.teamReward(a);
        perAgent.push(Array.from(differenceRewards(game, a, G))); // hook queried before step()
        team.push(game.step(a).teamReward);
      }
      episodes += BATCH;
      if (team.reduce((x, y) => x + y, 0) / BATCH >= THRESHOLD) return episodes;
      L.observe(batch, team, perAgent);
    }
    return Number.POSITIVE_INFINITY;
  } finally {
    L.dispose();
  }
}

describe('marl/singlestep: difference rewards in a many-agent game with diluted contributions', () => {
  it(`difference rewards reach a team reward of ${THRESHOLD} with ${NUM_AGENTS} agents in fewer episodes than the shared reward`, function () {
    this.timeout(60000);
    const seeds = [0, 1, 2, 3];
    const diff = seeds.map((s) => episodesToThreshold('perAgent', s));
    const shared = seeds.map((s) => episodesToThreshold('shared', s));
    console.log(`      episodes to ${THRESHOLD}: difference ${diff.join(', ')}; shared ${shared.join(', ')}`);
    assert.ok(diff.every(Number.isFinite), 'difference rewards reach the threshold within the budget');
    seeds.forEach((s, k) => assert.ok(diff[k] < shared[k], `seed ${s}: difference ${diff[k]} vs shared ${shared[k]}`));
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    assert.ok(mean(diff) < 0.7 * mean(shared), `mean episodes: difference ${mean(diff)} vs shared ${mean(shared)}`);
  });
});
