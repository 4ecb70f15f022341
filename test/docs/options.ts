// Reads the public options types of the package's entry points with the
// TypeScript compiler and reports every option whose doc comment is missing,
// or, for an optional one, does not state its default.
import ts from 'typescript';

/** The convention: an optional option's doc comment says "Default ..." (e.g. "Default 5.", "Default: none."). */
export const STATES_DEFAULT = /(^|[\s.(])Default\b/;

export interface OptionProblem {
  /** `ClientOptions.keepalive` */
  option: string;
  /** Where the option is declared (path relative to the repository). */
  file: string;
  problem: 'no doc comment' | 'no default stated';
}

export interface OptionsReport {
  /** The options types checked, by entry point. */
  types: string[];
  /** Options checked. */
  checked: number;
  /** Options declared outside the repository (e.g. Node's TLS options), documented by their owners. */
  foreign: number;
  problems: OptionProblem[];
}

function compilerOptions(tsconfig: string): ts.CompilerOptions {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    tsconfig,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (parsed === undefined) throw new Error(`cannot read ${tsconfig}`);
  return { ...parsed.options, noEmit: true };
}

/** Checks every exported type named `*Options` of each entry point. */
export function checkOptions(entryPoints: string[], tsconfig = 'tsconfig.build.json'): OptionsReport {
  const program = ts.createProgram(entryPoints, compilerOptions(tsconfig));
  const checker = program.getTypeChecker();
  const root = `${process.cwd()}/`;
  const report: OptionsReport = { types: [], checked: 0, foreign: 0, problems: [] };
  const seen = new Set<ts.Symbol>();
  for (const entry of entryPoints) {
    const source = program.getSourceFile(entry);
    const module = source && checker.getSymbolAtLocation(source);
    if (module === undefined) throw new Error(`${entry}: not a module`);
    for (const exported of checker.getExportsOfModule(module)) {
      if (!exported.name.endsWith('Options')) continue;
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      if (!(symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias)) || seen.has(symbol))
        continue;
      seen.add(symbol);
      report.types.push(`${entry}: ${exported.name}`);
      const type = checker.getDeclaredTypeOfSymbol(symbol);
      for (const property of checker.getPropertiesOfType(type)) {
        const declaration = property.declarations?.[0];
        const file = declaration?.getSourceFile().fileName.replace(root, '') ?? '?';
        if (file.startsWith('/') || file.includes('node_modules/')) {
          report.foreign++;
          continue;
        }
        report.checked++;
        const doc = ts.displayPartsToString(property.getDocumentationComment(checker)).trim();
        const option = `${exported.name}.${property.name}`;
        if (doc === '') report.problems.push({ option, file, problem: 'no doc comment' });
        else if (property.flags & ts.SymbolFlags.Optional && !STATES_DEFAULT.test(doc)) {
          report.problems.push({ option, file, problem: 'no default stated' });
        }
      }
    }
  }
  return report;
}
