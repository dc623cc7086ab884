export type { ImageDataset, DatasetSplits, Batch } from './types';
export { DataFileError, parseIdx, readIdxFile, encodeIdx, writeIdxFile, writeFileAtomic, isGzip, maybeGunzip } from './idx';
export type { IdxArray, IdxDataType, IdxTypedArray } from './idx';
export { exampleSize, validateDataset, classCounts, indicesByClass, subset } from './dataset';
export {
  loadFashionMnist,
  loadDigits,
  locateDataset,
  loadIdxImageDataset,
  loadIdxDirectory,
  findIdxFile,
  embeddedDataDir,
  FASHION_MNIST_CLASSES,
  DIGIT_CLASSES,
  FASHION_MNIST_ENV,
  FASHION_MNIST_DEBIAN_DIR,
  MNIST_ENV,
  IDX_FILE_NAMES,
} from './loaders';
export type { DataSourceKind, DatasetLocation, TrainTestData, LoadOptions, IdxImageDatasetOptions } from './loaders';
export { balancedIndices, takeBalanced, splitTrainValidation, makeSplits } from './splits';
export type { SplitOptions, TrainValidationSplit } from './splits';
export { makeSyntheticClassification, makeSyntheticTrainTest, makeSyntheticFeatures } from './synthetic';
export type { SyntheticClassificationOptions, SyntheticFeaturesOptions } from './synthetic';
export { BatchIterator, datasetToTensors } from './batches';
export type { BatchIteratorOptions, IndexedBatch, BatchPosition } from './batches';
