export { writeFileAtomic } from './atomic';
export { writeCsv } from './csv';
