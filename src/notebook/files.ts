// The library-wide atomic write, re-exported for notebooks.
export { writeFileAtomic } from '../io';
