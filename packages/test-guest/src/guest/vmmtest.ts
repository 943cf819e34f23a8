/** One `VMMTEST {...}` result line of a check (`{"check":"probe","ok":true,...}`). */
export interface VmmtestCheckResult {
  readonly check: string;
  readonly ok: boolean;
  /** Check-specific fields (uptime, devices, ...). */
  readonly [field: string]: unknown;
}

/** A device entry of the `probe` check. */
export interface ProbedDevice {
  /** sysfs name, e.g. "virtio0". */
  readonly name: string;
  /** Virtio device ID (1 net, 2 block, 3 console, 4 entropy, ...). */
  readonly device: number;
  readonly vendor: number;
  /** Bound driver name ("" when unbound). */
  readonly driver: string;
  /** Device status byte. */
  readonly status: number;
  /** Negotiated feature bit numbers. */
  readonly features: readonly number[];
}

/** Everything the VMMTEST lines of one guest run said. */
export interface VmmtestReport {
  /** Check results in console order (including the `modules` line). */
  readonly results: readonly VmmtestCheckResult[];
  /** Whether the final `{"done":true,...}` line was seen. */
  readonly done: boolean;
  /** The final line's ok; false when it was not seen. */
  readonly ok: boolean;
}

const MARK = 'VMMTEST {';

/**
 * Parses one console line: returns the JSON object after "VMMTEST " (anywhere in the line, so
 * kernel messages interleaved before it are tolerated), or undefined when the line has none or
 * its JSON is malformed (e.g. cut by interleaved output).
 */
export function parseVmmtestLine(line: string): Record<string, unknown> | undefined {
  const at = line.indexOf(MARK);
  if (at < 0) return undefined;
  try {
    const value: unknown = JSON.parse(line.slice(at + MARK.length - 1).trim());
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Parses the console output of a test guest run (any line endings) into a {@link VmmtestReport}. */
export function parseVmmtest(output: string): VmmtestReport {
  const results: VmmtestCheckResult[] = [];
  let done = false;
  let ok = false;
  for (const line of output.split(/\r?\n|\r/)) {
    const v = parseVmmtestLine(line);
    if (!v) continue;
    if (v.done === true) {
      done = true;
      ok = v.ok === true;
    } else if (typeof v.check === 'string' && typeof v.ok === 'boolean') {
      results.push(v as VmmtestCheckResult);
    }
  }
  return { results, done, ok };
}

/** The devices of a report's `probe` result ([] when there was none). */
export function probedDevices(report: VmmtestReport): ProbedDevice[] {
  const probe = report.results.find((r) => r.check === 'probe');
  return Array.isArray(probe?.devices) ? (probe.devices as ProbedDevice[]) : [];
}
