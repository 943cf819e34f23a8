import { moduleName } from './modinfo.js';

/** What a module source knows about one module name. */
export type ModuleLookup =
  | { readonly kind: 'module'; readonly path: string; readonly depends: readonly string[] }
  | { readonly kind: 'builtin' }
  | undefined;

/** One module to load, in an order where every module follows its dependencies. */
export interface ResolvedModule {
  readonly name: string;
  /** Path relative to /lib/modules/<release>/ (e.g. "kernel/drivers/virtio/virtio.ko"). */
  readonly path: string;
  readonly depends: readonly string[];
}

/** The result of {@link resolveModules}. */
export interface ModuleResolution {
  /** Modules in load order (dependencies first), each once. */
  readonly order: readonly ResolvedModule[];
  /** Requested or depended-on names built into the kernel (nothing to load). */
  readonly builtin: readonly string[];
}

/**
 * Computes the transitive closure of `requested` over the modules' `depends=` fields and a
 * load order. Names compare with "-" and "_" alike.
 * @throws Error naming every module that is neither a module nor built in (and who needs it),
 *   or a dependency cycle.
 */
export function resolveModules(requested: readonly string[], lookup: (name: string) => ModuleLookup): ModuleResolution {
  const order: ResolvedModule[] = [];
  const builtin = new Set<string>();
  const done = new Set<string>();
  const visiting: string[] = [];
  const missing: string[] = [];
  const visit = (raw: string, neededBy?: string): void => {
    const name = moduleName(raw);
    if (done.has(name) || builtin.has(name)) return;
    if (visiting.includes(name)) throw new Error(`module dependency cycle: ${[...visiting, name].join(' -> ')}`);
    const found = lookup(name);
    if (!found) {
      missing.push(neededBy ? `${name} (needed by ${neededBy})` : name);
      return;
    }
    if (found.kind === 'builtin') {
      builtin.add(name);
      return;
    }
    visiting.push(name);
    for (const dep of found.depends) visit(dep, name);
    visiting.pop();
    done.add(name);
    order.push({ name, path: found.path, depends: found.depends.map(moduleName) });
  };
  for (const name of requested) visit(name);
  if (missing.length) throw new Error(`kernel modules not found: ${missing.join(', ')}`);
  return { order, builtin: [...builtin] };
}

/**
 * Writes modules.dep (depmod's format: "path: dep-path ...", transitive dependencies with the
 * one to load first last) for the resolved modules.
 */
export function modulesDep(resolution: ModuleResolution): string {
  const byName = new Map(resolution.order.map((m) => [m.name, m]));
  const lines: string[] = [];
  for (const m of resolution.order) {
    const closure: ResolvedModule[] = [];
    const seen = new Set<string>();
    const walk = (name: string): void => {
      const dep = byName.get(name);
      if (!dep || seen.has(name)) return;
      seen.add(name);
      dep.depends.forEach(walk);
      closure.push(dep);
    };
    m.depends.forEach(walk);
    lines.push(`${m.path}:${closure.reverse().map((d) => ` ${d.path}`).join('')}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
