/** Job sent to a training bench worker. */
export interface TrainingJob {
  model: 'mlp' | 'cnn';
  gradientOverrides: boolean;
  batch: number;
  warmup: number;
  steps: number;
  learningRate: number;
  seed: number;
}

/** Messages from a training bench worker. */
export type WorkerMessage =
  | { type: 'ready'; error?: string }
  | { type: 'done'; msPerStep: number; firstLoss: number; lastLoss: number; leakedTensors: number };
