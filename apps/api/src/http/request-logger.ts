import type { FastifyBaseLogger } from "fastify";
import type { Bindings, ChildLoggerOptions, Level, LevelWithSilentOrString, Logger } from "pino";

const LEVELS: readonly Level[] = ["fatal", "error", "warn", "info", "debug", "trace"];

/**
 * A request's logger (`request.log`), made into pino's child only when a line is written at a level
 * it would keep. pino's `child` serialises the bindings (the request id) and runs the redaction
 * over them at once — about 1.6 µs a request (bench/serve/profile.ts, cached route) — and at the
 * default level (warn) almost no request writes a line.
 */
class LazyRequestLogger {
  private made: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  /** pino's child, made now if it was not yet. */
  get real(): Logger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }

  /** The child's level: its own option, else the parent's as it is now. */
  get level(): LevelWithSilentOrString {
    return this.made?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: LevelWithSilentOrString) {
    this.real.level = level;
  }

  isLevelEnabled(level: LevelWithSilentOrString): boolean {
    if (this.made) return this.made.isLevelEnabled(level);
    const values = this.parent.levels.values;
    const own = this.options.level;
    const threshold = own === undefined ? this.parent.levelVal : values[own];
    return threshold !== undefined && values[level] !== undefined && values[level] >= threshold;
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): Logger {
    return this.real.child(bindings, options);
  }

  silent(): void {}

  declare fatal: Logger["fatal"];
  declare error: Logger["error"];
  declare warn: Logger["warn"];
  declare info: Logger["info"];
  declare debug: Logger["debug"];
  declare trace: Logger["trace"];
}

for (const level of LEVELS) {
  Object.defineProperty(LazyRequestLogger.prototype, level, {
    value(this: LazyRequestLogger, ...args: unknown[]) {
      if (!this.isLevelEnabled(level)) return;
      const real = this.real;
      (real[level] as (...a: unknown[]) => void).apply(real, args);
    },
  });
}

/** Fastify's `childLoggerFactory`: request loggers made on first use (see LazyRequestLogger). */
export function lazyRequestLogger(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  return new LazyRequestLogger(
    logger as unknown as Logger,
    bindings,
    options,
  ) as unknown as FastifyBaseLogger;
}
