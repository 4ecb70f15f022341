/**
 * A small table-driven flag parser. Each command declares its flags (short
 * and long names, whether they take a value, whether they repeat); the parser
 * turns argv into values by flag key and positional arguments. Bad usage is a
 * `UsageError`, which the CLI prints in one line with exit code 2.
 */

/** Bad usage: unknown flag, missing or malformed value. Exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface FlagSpec {
  /** Key in the parsed result, e.g. `topic`. */
  key: string;
  /** Names on the command line, e.g. `['-t', '--topic']`. */
  names: string[];
  /** Takes a value (`-t TOPIC`); otherwise a switch. Default false. */
  value?: boolean;
  /** May be given more than once; every value is kept. Default false. */
  repeatable?: boolean;
  /** One line of help. */
  help: string;
  /** Placeholder shown in help, e.g. `TOPIC`. */
  meta?: string;
}

export interface ParsedFlags {
  /** Last value of each single-valued flag, `true` for switches. */
  values: Map<string, string | true>;
  /** Every value of each repeatable flag, in order. */
  lists: Map<string, string[]>;
  /** Arguments that are not flags. */
  positional: string[];
}

/**
 * Parses `argv` against `specs`. Accepts `-t VALUE`, `--topic VALUE` and
 * `--topic=VALUE`; `--` ends the flags.
 */
export function parseFlags(argv: string[], specs: FlagSpec[]): ParsedFlags {
  const byName = new Map<string, FlagSpec>();
  for (const spec of specs) for (const name of spec.names) byName.set(name, spec);
  const result: ParsedFlags = { values: new Map(), lists: new Map(), positional: [] };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    if (arg === '--') {
      result.positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      result.positional.push(arg);
      continue;
    }
    let inline: string | undefined;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    if (eq > 0) {
      inline = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const spec = byName.get(arg);
    if (spec === undefined) throw new UsageError(`unknown option ${arg}`);
    if (!spec.value) {
      if (inline !== undefined) throw new UsageError(`${arg} takes no value`);
      result.values.set(spec.key, true);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined)
      throw new UsageError(`${arg} needs a value${spec.meta ? ` (${spec.meta})` : ''}`);
    if (spec.repeatable) {
      const list = result.lists.get(spec.key) ?? [];
      list.push(value);
      result.lists.set(spec.key, list);
    } else {
      result.values.set(spec.key, value);
    }
  }
  return result;
}

/** Help lines for `specs`, aligned. */
export function flagHelp(specs: FlagSpec[]): string {
  const left = specs.map((s) => `${s.names.join(', ')}${s.value ? ` ${s.meta ?? 'VALUE'}` : ''}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  return specs.map((s, i) => `  ${left[i].padEnd(width)}${s.help}`).join('\n');
}

/** A flag's string value, if given. */
export function stringFlag(flags: ParsedFlags, key: string): string | undefined {
  const v = flags.values.get(key);
  return typeof v === 'string' ? v : undefined;
}

/** Whether a switch was given. */
export function switchFlag(flags: ParsedFlags, key: string): boolean {
  return flags.values.get(key) === true;
}

/** A number within [min, max], or undefined when the flag is absent. */
export function numberFlag(
  flags: ParsedFlags,
  key: string,
  what: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
  integer = true,
): number | undefined {
  const raw = stringFlag(flags, key);
  if (raw === undefined) return undefined;
  return parseNumber(raw, what, min, max, integer);
}

export function parseNumber(raw: string, what: string, min: number, max: number, integer = true): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `${min} to ${max}`;
    throw new UsageError(`${what} must be ${integer ? 'an integer ' : 'a number '}${range}, got "${raw}"`);
  }
  return n;
}

/** `-q 0|1|2`. */
export function qosFlag(flags: ParsedFlags): 0 | 1 | 2 {
  const q = numberFlag(flags, 'qos', '-q (QoS)', 0, 2);
  return (q ?? 0) as 0 | 1 | 2;
}
