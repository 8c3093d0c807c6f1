/**
 * The python3 the specs that drive Python code run (spec/interop/aiozipkin,
 * spec/propagation/w3c-suite): found, not assumed.
 */
import { spawnSync } from 'node:child_process';

/**
 * The first python3 that can import every one of `modules`, or undefined.
 * `python3` on PATH may be a pyenv or venv python without them, while Debian's
 * packages (python3-aiohttp, python3-aiozipkin) install into /usr/bin/python3:
 * both are tried, in that order, each given 30 s to answer.
 */
export function findPython(modules: readonly string[]): string | undefined {
  for (const candidate of ['python3', '/usr/bin/python3']) {
    const probe = spawnSync(candidate, ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore', timeout: 30_000 });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}
