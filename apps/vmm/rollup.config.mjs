// `npx rollup -c`: builds the VMM bundle into dist/build-<id>/ and makes it current
// (scripts/bundle/config.mjs); `node scripts/bundle/build.mjs` does the same only when it is out of date.
import { bundleConfig } from './scripts/bundle/config.mjs';

export default bundleConfig();
