import type { tf } from '../backend';

/**
 * An in-memory labelled image dataset (NHWC, pixel values scaled to [0, 1]).
 * MLPs flatten `height * width * channels`; CNNs use the image shape.
 */
export interface ImageDataset {
  /** Short identifier, e.g. `fashion-mnist/train` or `digits/test`. */
  name: string;
  /** Pixel values in [0, 1], length `n * height * width * channels`, row-major NHWC. */
  images: Float32Array;
  /** Class indices in [0, numClasses). */
  labels: Int32Array;
  n: number;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
  classNames?: readonly string[];
  /** Where the data came from (path or "embedded subset ..."), for provenance in result tables. */
  source: string;
}

/** Train / validation / test parts of one dataset. */
export interface DatasetSplits {
  train: ImageDataset;
  validation: ImageDataset;
  test: ImageDataset;
}

/** One mini-batch as tensors; the consumer disposes them. `x` is [B, H, W, C] or [B, H*W*C]; `y` int32 [B]. */
export interface Batch {
  x: tf.Tensor;
  y: tf.Tensor;
}
