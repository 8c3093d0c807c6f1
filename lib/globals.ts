/**
 * The globals that ziptrace's public types mention, declared here so that its
 * published declarations compile in any TypeScript project: with or without
 * @types/node, the DOM lib, or the `esnext.disposable` lib.
 *
 * Types only: the module is empty at run time. scripts/build.mjs makes every
 * declaration file that uses `Symbol.dispose` reference this one.
 */

declare global {
  interface SymbolConstructor {
    /**
     * The method `using` calls at the end of its block (`Span` has one). Node
     * has it at run time; TypeScript's `esnext.disposable` lib and @types/node
     * declare it the same way, so this merges with them where they are present.
     */
    readonly dispose: unique symbol;
  }
}

/** The parts of a WHATWG `URL` that ziptrace's types use, for programs whose libs have no `URL` type. */
export interface URLFields {
  readonly href: string;
  readonly origin: string;
  readonly protocol: string;
  readonly username: string;
  readonly password: string;
  readonly host: string;
  readonly hostname: string;
  readonly port: string;
  readonly pathname: string;
  readonly search: string;
  readonly hash: string;
  toString(): string;
  toJSON(): string;
}

/**
 * The global `URL` type where the program has one (@types/node or the DOM
 * lib), else {@link URLFields}: a project without either still compiles.
 */
export type GlobalURL = typeof globalThis extends { URL: abstract new (...args: any) => infer U } ? U : URLFields;
