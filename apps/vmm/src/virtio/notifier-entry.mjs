// Worker threads of Node 20 do not run the parent's --import hooks: register tsx here, then
// load the TypeScript poller (TSX_TSCONFIG_PATH, inherited, resolves @virtio/* to src/).
import { register } from 'tsx/esm/api';

register();
await import('./notifier.ts');
