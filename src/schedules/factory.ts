import { GroupsInput, Schedule } from './core';
import {
  ConstantLR,
  ConstantLRConfig,
  ConstantSchedule,
  CosineAnnealingLR,
  CosineAnnealingLRConfig,
  ExponentialLR,
  ExponentialLRConfig,
  LinearLR,
  LinearLRConfig,
  MultiStepLR,
  MultiStepLRConfig,
  OneCycleLR,
  OneCycleLRConfig,
  StepLR,
  StepLRConfig,
  WarmupCosineConfig,
  warmupCosine,
} from './lr';
import { ReduceLROnPlateau, ReduceLROnPlateauConfig } from './plateau';

/** A schedule described as data (for presets, grids and result tables). */
export type ScheduleSpec =
  | { type: 'constant' }
  | ({ type: 'step' } & StepLRConfig)
  | ({ type: 'multistep' } & MultiStepLRConfig)
  | ({ type: 'exponential' } & ExponentialLRConfig)
  | ({ type: 'constantlr' } & ConstantLRConfig)
  | ({ type: 'linear' } & LinearLRConfig)
  | ({ type: 'cosine' } & CosineAnnealingLRConfig)
  | ({ type: 'warmupCosine' } & WarmupCosineConfig)
  | ({ type: 'onecycle' } & OneCycleLRConfig)
  | ({ type: 'plateau' } & ReduceLROnPlateauConfig);

/** The `type` names {@link createSchedule} accepts. */
export const SCHEDULE_TYPES = [
  'constant',
  'step',
  'multistep',
  'exponential',
  'constantlr',
  'linear',
  'cosine',
  'warmupCosine',
  'onecycle',
  'plateau',
] as const;

/**
 * Builds a schedule from a data description; the rest of `spec` is the schedule's own config
 * (validated by that schedule). For `onecycle`, `lrs` only fixes the number of groups.
 *
 * @example
 * ```ts
 * const s = createSchedule({ type: 'cosine', tMax: 50, etaMin: 1e-4 }, [0.1, 0.05, 0.02]);
 * ```
 */
export function createSchedule(spec: ScheduleSpec, lrs: GroupsInput): Schedule {
  if (spec === null || typeof spec !== 'object') throw new Error('createSchedule: spec must be an object with a type');
  const { type, ...config } = spec as { type: string } & Record<string, unknown>;
  switch (type) {
    case 'constant':
      if (Object.keys(config).length > 0)
        throw new Error(`createSchedule: 'constant' takes no options, got ${Object.keys(config).join(', ')}`);
      return new ConstantSchedule(lrs);
    case 'step':
      return new StepLR(lrs, config as unknown as StepLRConfig);
    case 'multistep':
      return new MultiStepLR(lrs, config as unknown as MultiStepLRConfig);
    case 'exponential':
      return new ExponentialLR(lrs, config as unknown as ExponentialLRConfig);
    case 'constantlr':
      return new ConstantLR(lrs, config as ConstantLRConfig);
    case 'linear':
      return new LinearLR(lrs, config as LinearLRConfig);
    case 'cosine':
      return new CosineAnnealingLR(lrs, config as unknown as CosineAnnealingLRConfig);
    case 'warmupCosine':
      return warmupCosine(lrs, config as unknown as WarmupCosineConfig);
    case 'onecycle':
      return new OneCycleLR(lrs, config as unknown as OneCycleLRConfig);
    case 'plateau':
      return new ReduceLROnPlateau(lrs, config as ReduceLROnPlateauConfig);
    default:
      throw new Error(
        `createSchedule: unknown schedule type ${JSON.stringify(type)} (expected one of ${SCHEDULE_TYPES.join(', ')})`,
      );
  }
}
