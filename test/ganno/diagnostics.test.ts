import { strict as assert } from 'assert';
import {
  actionShares,
  degenerateShare,
  diagnosticsCurve,
  diagnosticsRows,
  dominantActionShare,
  isDegenerateRun,
  movedText,
} from '../../src/ganno';
import type { EvalRow, GannoUpdateDiagnostics, VariantAgent } from '../../src/ganno';
import { budgetCurveFromEnv } from '../../src/notebook';

function diag(update: number, kl: number, counts: number[]): GannoUpdateDiagnostics {
  return {
    update,
    meanTeamReturn: 1,
    meanAgentReward: 0.1,
    approxKl: 0.01,
    kl: 0.02,
    klFromInitial: kl,
    clipFraction: 0.1,
    policyEntropy: 2,
    maxProb: 0.2,
    explainedVariance: 0.5,
    valueLoss: 0.3,
    actorGradNorm: 0.4,
    actorGradNormMax: 0.6,
    criticGradNorm: 0.5,
    criticGradNormMax: 0.9,
    actionCounts: counts,
    seconds: 1,
  };
}

const agent = (seed: number, kls: number[], moved: boolean) =>
  ({
    variant: 'default',
    seed,
    moved,
    diagnostics: kls.map((kl, u) => diag(u + 1, kl, [u, 1, 2])),
  }) as unknown as VariantAgent;

describe('ganno/diagnostics helpers', () => {
  it('flattens diagnostics to one CSV row per agent and update, with action shares', () => {
    const rows = diagnosticsRows([agent(0, [0.1, 0.2], true), agent(1, [0.3], true)]);
    assert.equal(rows.length, 3);
    assert.deepEqual([rows[0].seed, rows[0].update, rows[2].seed], [0, 1, 1]);
    assert.equal(rows[1].klFromInitial, 0.2);
    assert.deepEqual([rows[1]['action 0'], rows[1]['action 1'], rows[1]['action 2']], [0.25, 0.25, 0.5]);
  });

  it('curves average over the agents that reached each update; action shares pool a range of updates', () => {
    const c = diagnosticsCurve([agent(0, [0.1, 0.2], true), agent(1, [0.3], true)], 'klFromInitial');
    assert.deepEqual(c.x, [1, 2]);
    assert.ok(Math.abs(c.y[0] - 0.2) < 1e-12 && c.y[1] === 0.2);
    assert.ok(c.lower[0] <= c.y[0] && c.upper[0] >= c.y[0]);
    assert.deepEqual(actionShares([agent(0, [0.1, 0.2], true)], 2, 2), [0.25, 0.25, 0.5]);
  });

  it('the degenerate-mode guard flags a run where one action exceeds 90% of an agent’s decisions', () => {
    assert.deepEqual(
      dominantActionShare([
        [8, 8, 8, 4],
        [4, 4, 4, 4],
      ]),
      [0.75, 1],
    );
    const run = (perDecision: number[][]) => ({ actions: perDecision }) as Pick<EvalRow, 'actions'>;
    const ten = (a: number, b: number) => Array.from({ length: 10 }, (_, t) => [a, t === 0 ? b : a]);
    assert.equal(isDegenerateRun(run(ten(8, 8))), true);
    assert.equal(isDegenerateRun(run(Array.from({ length: 10 }, (_, t) => [t % 9, (t * 2) % 9]))), false);
    assert.equal(isDegenerateRun(run([])), false, 'step controllers take no actions');
    const rows = [
      { label: 'A', actions: ten(8, 8) },
      { label: 'A', actions: Array.from({ length: 10 }, (_, t) => [t % 9]) },
      { label: 'B', actions: [] },
    ] as unknown as EvalRow[];
    assert.equal(degenerateShare(rows, 'A'), 0.5);
    assert.ok(Number.isNaN(degenerateShare(rows, 'B')));
  });

  it('says how many policies moved and flags the rest', () => {
    assert.equal(movedText([{ moved: true }, { moved: true }]), '2/2 moved');
    assert.match(movedText([{ moved: true }, { moved: false }]), /^⚠ 1\/2 moved \(KL from initial < 0\.05\)$/);
  });

  it('reads the budget curve from MARL_AUTOML_GANNO_BUDGET_CURVE, refusing bad values by name', () => {
    assert.deepEqual(budgetCurveFromEnv({ MARL_AUTOML_GANNO_BUDGET_CURVE: '1, 3,10' }), [1, 3, 10]);
    assert.equal(budgetCurveFromEnv({}), undefined);
    assert.throws(
      () => budgetCurveFromEnv({ MARL_AUTOML_GANNO_BUDGET_CURVE: '1,x' }),
      /MARL_AUTOML_GANNO_BUDGET_CURVE: expected comma-separated positive integers/,
    );
  });
});
