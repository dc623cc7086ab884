/**
 * `vectorised` bench suite: milliseconds per network-step of the GANNO MLP (784-64-64-10, batch 64,
 * SGD, full per-layer metrics) trained B at a time by {@link VectorisedTrainer} (B = 1, 4, 8, 16;
 * one shared batch, and B separate batches) next to one {@link LayerwiseTrainer} step in the same
 * run, and, when Debian's `python3-torch` is importable, the same single-network step in PyTorch
 * (1 thread).
 */
import { execFileSync } from 'child_process';
import * as os from 'os';
import { initBackend, tf } from '../backend';
import type { Batch } from '../data';
import { LayerwiseTrainer, VectorisedTrainer, buildMlp } from '../nn';
import { Rng } from '../random';
import { check, registerBench } from './registry';
import type { BenchResult, BenchRow } from './registry';

/** Options of {@link benchVectorised}. */
export interface VectorisedBenchOptions {
  /** Network counts B (default 1, 4, 8, 16). */
  sizes?: number[];
  /** Timed steps per measurement (default 60; 5 warm-up steps first). */
  steps?: number;
  /** Alternating rounds; the best round of each configuration counts (default 3). */
  rounds?: number;
}

/** Measured numbers of {@link benchVectorised}. */
export interface VectorisedBenchResult {
  rows: BenchRow[];
  /** ms per step of one LayerwiseTrainer. */
  layerwiseMs: number;
  /** ms per network-step by B, shared batch. */
  sharedMsPerNetwork: Record<number, number>;
  /** ms per network-step by B, shared batch with the wide first-layer product (`sharedInput: 'wide'`). */
  wideMsPerNetwork: Record<number, number>;
  /** ms per network-step by B, separate batches. */
  separateMsPerNetwork: Record<number, number>;
  /** PyTorch 1-thread ms per step, or null when torch is not importable. */
  torchMs: number | null;
  torchVersion: string | null;
  /** The PyTorch run's BLAS (null without torch). */
  torch: TorchInfo | null;
  /** Measured wasm matMul throughput at the first layer's shape ([64, 784] x [784, 512]), GFLOP/s. */
  matMulGflops: number;
  /** FLOPs of one network-step (forward, the weight and hidden-input gradients, SGD update ignored). */
  stepFlops: number;
}

/** Multiply-adds x 2 of one SGD step of the MLP: forward, weight gradients, and input gradients of every layer but the first. */
function mlpStepFlops(): number {
  const dims = [DIMS.input, ...DIMS.hidden, DIMS.classes];
  let macs = 0;
  for (let l = 0; l + 1 < dims.length; l++) macs += DIMS.batch * dims[l] * dims[l + 1] * (l === 0 ? 2 : 3);
  return 2 * macs;
}

const DIMS = { input: 784, hidden: [64, 64], classes: 10, batch: 64 };

function batchOf(seed: number): Batch {
  const r = new Rng(seed);
  return {
    x: tf.tensor2d(r.normalArray(DIMS.batch * DIMS.input), [DIMS.batch, DIMS.input]),
    y: tf.tensor1d(
      Array.from({ length: DIMS.batch }, () => r.int(DIMS.classes)),
      'int32',
    ),
  };
}

/** What the PyTorch reference ran with: version, build BLAS setting and the BLAS library actually loaded. */
export interface TorchInfo {
  ms: number;
  version: string;
  /** `BLAS_INFO` of `torch.__config__.show()` (`generic`: whatever `libblas.so.3` resolves to). */
  blasInfo: string;
  /** Real paths of the BLAS libraries mapped into the timed process (from /proc/self/maps). */
  blasLibraries: string[];
}

/**
 * A short label of the BLAS behind a PyTorch run: Debian's python3-torch is built with
 * `BLAS_INFO=generic` and calls whatever `libblas.so.3` resolves to — the reference BLAS
 * (`libblas3`, several times slower) unless OpenBLAS (`libopenblas0-pthread`) or another optimised
 * BLAS is installed as the alternative.
 *
 * @example
 * ```ts
 * torchBlasLabel({ blasInfo: 'generic', blasLibraries: ['/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3'] }); // 'OpenBLAS (openblas-pthread)'
 * ```
 */
export function torchBlasLabel(info: Pick<TorchInfo, 'blasInfo' | 'blasLibraries'>): string {
  const libs = info.blasLibraries;
  const open = libs.find((l) => /openblas/i.test(l));
  if (open) return `OpenBLAS (${open.split('/').slice(-2, -1)[0] ?? open})`;
  if (libs.some((l) => /mkl/i.test(l))) return 'MKL';
  if (libs.some((l) => /blis/i.test(l))) return 'BLIS';
  if (libs.some((l) => /atlas/i.test(l))) return 'ATLAS';
  if (libs.some((l) => /\/blas\/libblas\.so/.test(l))) return 'reference BLAS (netlib libblas3: slow)';
  return libs.length ? libs.map((l) => l.split('/').pop()).join(', ') : `BLAS_INFO=${info.blasInfo}`;
}

/** The PyTorch reference: the same MLP and batch size, SGD, one thread; ms per step (best of 3 runs of `steps`). */
function torchStepMs(steps: number): TorchInfo | null {
  const script = `
import json, os, re, time, torch
torch.set_num_threads(1)
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(${DIMS.input}, ${DIMS.hidden[0]}), torch.nn.ReLU(), torch.nn.Linear(${DIMS.hidden[0]}, ${DIMS.hidden[1]}), torch.nn.ReLU(), torch.nn.Linear(${DIMS.hidden[1]}, ${DIMS.classes}))
opt = torch.optim.SGD(net.parameters(), lr=0.05)
x = torch.randn(${DIMS.batch}, ${DIMS.input}); y = torch.randint(0, ${DIMS.classes}, (${DIMS.batch},))
loss_fn = torch.nn.CrossEntropyLoss()
def step():
    opt.zero_grad(); loss = loss_fn(net(x), y); loss.backward(); opt.step(); return loss.item()
for _ in range(20): step()
best = 1e9
for _ in range(3):
    t0 = time.perf_counter()
    for _ in range(${steps}): step()
    best = min(best, (time.perf_counter() - t0) / ${steps})
m = re.search(r'BLAS_INFO=([^,\\s]+)', torch.__config__.show())
libs = sorted({os.path.realpath(l.split()[-1]) for l in open('/proc/self/maps') if len(l.split()) >= 6 and re.search(r'blas|mkl|blis|atlas', l.split()[-1], re.I)})
print(json.dumps({'version': torch.__version__, 'ms': best * 1000, 'blasInfo': m.group(1) if m else 'unknown', 'blasLibraries': libs}))
`;
  try {
    const out = execFileSync('/usr/bin/python3', ['-c', script], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 120_000,
    })
      .trim()
      .split('\n');
    const info = JSON.parse(out[out.length - 1]) as TorchInfo;
    return Number.isFinite(info.ms) ? info : null;
  } catch {
    return null;
  }
}

/**
 * Times the vectorised trainer against the layerwise one (and PyTorch when available).
 *
 * @example
 * ```ts
 * const r = await benchVectorised({ sizes: [1, 8], steps: 20, rounds: 1 });
 * console.log(r.layerwiseMs, r.sharedMsPerNetwork[8]);
 * ```
 */
export async function benchVectorised(options: VectorisedBenchOptions = {}): Promise<VectorisedBenchResult> {
  await initBackend();
  const sizes = options.sizes ?? [1, 4, 8, 16];
  const steps = options.steps ?? 60;
  const rounds = options.rounds ?? 3;
  const maxB = Math.max(...sizes);
  const batches = Array.from({ length: maxB }, (_, i) => batchOf(i + 1));
  const models = Array.from({ length: maxB }, (_, i) =>
    buildMlp({ inputSize: DIMS.input, hidden: DIMS.hidden, numClasses: DIMS.classes, seed: i + 1 }),
  );
  const time = (fn: () => void): number => {
    for (let i = 0; i < 5; i++) fn();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) fn();
    return (performance.now() - t0) / steps;
  };
  const layerwise = new LayerwiseTrainer(models[0], { optimizer: 'sgd', learningRates: 0.05 });
  const trainers = new Map(
    sizes.map((b) => [b, new VectorisedTrainer(models.slice(0, b), { optimizer: 'sgd', learningRates: 0.05 })]),
  );
  const wideTrainers = new Map(
    sizes.map((b) => [
      b,
      new VectorisedTrainer(models.slice(0, b), { optimizer: 'sgd', learningRates: 0.05 }, { sharedInput: 'wide' }),
    ]),
  );
  let layerwiseMs = Infinity;
  const shared: Record<number, number> = {};
  const wide: Record<number, number> = {};
  const separate: Record<number, number> = {};
  for (let r = 0; r < rounds; r++) {
    // interleave the configurations so that load changes on the machine hit all alike
    layerwiseMs = Math.min(
      layerwiseMs,
      time(() => layerwise.step(batches[0])),
    );
    for (const b of sizes) {
      const vt = trainers.get(b)!;
      shared[b] = Math.min(shared[b] ?? Infinity, time(() => vt.step(batches[0])) / b);
      const vw = wideTrainers.get(b)!;
      wide[b] = Math.min(wide[b] ?? Infinity, time(() => vw.step(batches[0])) / b);
      const own = batches.slice(0, b);
      separate[b] = Math.min(separate[b] ?? Infinity, time(() => vt.step(own)) / b);
    }
  }
  layerwise.dispose();
  for (const vt of [...trainers.values(), ...wideTrainers.values()]) vt.dispose();
  for (const m of models) m.dispose();
  for (const bt of batches) tf.dispose([bt.x, bt.y]);
  const torch = torchStepMs(steps * 3);
  // The arithmetic floor: the matMul throughput the wasm backend reaches at the dominant shape.
  const a = tf.randomNormal([DIMS.batch, DIMS.input]);
  const w = tf.randomNormal([DIMS.input, 8 * DIMS.hidden[0]]);
  const mmMs = time(() => tf.matMul(a, w).dispose());
  tf.dispose([a, w]);
  const matMulGflops = (2 * DIMS.batch * DIMS.input * 8 * DIMS.hidden[0]) / (mmMs * 1e6);
  const stepFlops = mlpStepFlops();
  const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
  const rows: BenchRow[] = [
    {
      trainer: 'LayerwiseTrainer (one network)',
      B: 1,
      batches: '-',
      'ms/step': round(layerwiseMs),
      'ms/network-step': round(layerwiseMs),
      'vs layerwise': 1,
      'vs PyTorch': torch ? round(torch.ms / layerwiseMs) : null,
    },
  ];
  for (const b of sizes) {
    for (const [mode, per] of [
      ['shared', shared[b]],
      ['shared, wide first layer', wide[b]],
      ['separate', separate[b]],
    ] as const) {
      rows.push({
        trainer: 'VectorisedTrainer',
        B: b,
        batches: mode,
        'ms/step': round(per * b),
        'ms/network-step': round(per),
        'vs layerwise': round(layerwiseMs / per, 2),
        'vs PyTorch': torch ? round(torch.ms / per) : null,
      });
    }
  }
  if (torch)
    rows.push({
      trainer: `PyTorch ${torch.version} SGD, 1 thread, BLAS: ${torchBlasLabel(torch)}`,
      B: 1,
      batches: '-',
      'ms/step': round(torch.ms),
      'ms/network-step': round(torch.ms),
      'vs layerwise': round(layerwiseMs / torch.ms, 2),
      'vs PyTorch': 1,
    });
  rows.push({
    trainer: `arithmetic floor: ${(stepFlops / 1e6).toFixed(1)} MFLOP at the measured ${matMulGflops.toFixed(1)} GFLOP/s wasm matMul`,
    B: '-',
    batches: '-',
    'ms/step': null,
    'ms/network-step': round(stepFlops / (matMulGflops * 1e6)),
    'vs layerwise': round(layerwiseMs / (stepFlops / (matMulGflops * 1e6)), 2),
    'vs PyTorch': torch ? round(torch.ms / (stepFlops / (matMulGflops * 1e6))) : null,
  });
  return {
    rows,
    layerwiseMs,
    sharedMsPerNetwork: shared,
    wideMsPerNetwork: wide,
    separateMsPerNetwork: separate,
    torchMs: torch?.ms ?? null,
    torchVersion: torch?.version ?? null,
    torch,
    matMulGflops,
    stepFlops,
  };
}

registerBench({
  name: 'vectorised',
  description:
    'VectorisedTrainer: ms per network-step of the GANNO MLP 784-64-64-10 (batch 64, SGD) for B = 1, 4, 8, 16, shared and separate batches, vs LayerwiseTrainer and PyTorch (1 thread) when installed',
  async run(ctx): Promise<BenchResult> {
    const r = await benchVectorised(ctx.quick ? { sizes: [1, 8], steps: 10, rounds: 1 } : {});
    const b8 = r.sharedMsPerNetwork[8];
    ctx.log(
      `[bench] vectorised: layerwise ${r.layerwiseMs.toFixed(3)} ms/step, B=8 shared ${b8?.toFixed(3)} ms/network-step${r.torchMs ? `, PyTorch ${r.torchMs.toFixed(3)} ms/step` : ''}`,
    );
    const checks = [
      check(
        'B = 8 shared batch vs one LayerwiseTrainer, per network-step',
        b8 ? Math.round((r.layerwiseMs / b8) * 100) / 100 : null,
        '>=',
        2,
        'x',
      ),
    ];
    if (r.torchMs && b8)
      checks.push(
        check(
          'B = 8 shared batch vs PyTorch single-network step (issue 13 target)',
          Math.round((r.torchMs / b8) * 100) / 100,
          '>=',
          0.5,
          'x',
        ),
      );
    return {
      rows: r.rows,
      checks,
      notes: [
        `machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, tfjs ${tf.getBackend()} (one thread: tfjs disables wasm threads in Node); load average at start ${os.loadavg()[0].toFixed(1)}`,
        r.torchMs
          ? `PyTorch ${r.torchVersion} (Debian python3-torch, BLAS_INFO=${r.torch?.blasInfo}; BLAS loaded: ${r.torch?.blasLibraries.join(', ') || 'none found'} = ${r.torch ? torchBlasLabel(r.torch) : '?'}), torch.set_num_threads(1), same MLP, batch and SGD (no per-layer metrics). Debian's torch calls whatever libblas.so.3 resolves to: the reference BLAS (several times slower) unless libopenblas0-pthread is installed`
          : 'PyTorch not importable by /usr/bin/python3 (apt-get install python3-torch to add the reference row)',
        'best of the alternating rounds; per network-step = step time / B. The trainers compute the full per-layer metrics (gradient, weight and update norms, sign agreement) every step.',
        `arithmetic floor: one network-step is ${(r.stepFlops / 1e6).toFixed(1)} MFLOP of matMuls; at the wasm matMul rate measured here (${r.matMulGflops.toFixed(1)} GFLOP/s, XNNPACK with 128-bit SIMD, one thread) that is ${(r.stepFlops / (r.matMulGflops * 1e6)).toFixed(3)} ms, the best any wasm trainer can do per network-step.`,
      ],
    };
  },
});
