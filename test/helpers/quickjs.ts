/**
 * A fresh QuickJS context for one use: evaluates code (throwing QuickJS's
 * error as a JS one), reads the heap in use, and disposes of everything after.
 * For the lite engine's QuickJS test and the quickjs benchmark; the older
 * QuickJS tests (test/core, test/radio) keep a copy of their own.
 */
import type { QuickJSWASMModule } from 'quickjs-emscripten';

export interface QuickJSContext {
  /** Evaluates `source` and returns its value, dumped to JSON-like data. */
  evaluate(source: string): unknown;
  /** The heap QuickJS reports in use (`memory_used_size`), in bytes. */
  memoryUsed(): number;
}

/** Runs `fn` with a new runtime and context (an optional heap limit), disposing both after. */
export function withQuickJS<T>(
  quickjs: QuickJSWASMModule,
  fn: (context: QuickJSContext) => T,
  memoryLimit?: number,
): T {
  const runtime = quickjs.newRuntime();
  if (memoryLimit !== undefined) runtime.setMemoryLimit(memoryLimit);
  const vm = runtime.newContext();
  try {
    return fn({
      evaluate(source) {
        const result = vm.evalCode(source);
        if (result.error) {
          const error = vm.dump(result.error);
          result.error.dispose();
          throw new Error(`QuickJS: ${JSON.stringify(error)}`);
        }
        const value = vm.dump(result.value);
        result.value.dispose();
        return value;
      },
      memoryUsed() {
        const usage = runtime.computeMemoryUsage();
        const bytes = (vm.dump(usage) as { memory_used_size: number }).memory_used_size;
        usage.dispose();
        return bytes;
      },
    });
  } finally {
    vm.dispose();
    runtime.dispose();
  }
}
