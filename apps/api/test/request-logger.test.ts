import { Writable } from "node:stream";
import Fastify from "fastify";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { lazyRequestLogger } from "../src/http/request-logger.ts";

/** A pino logger writing JSON lines (without their time) into `lines`, redacting like the api. */
function capture(level: pino.LevelWithSilent) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (!line) continue;
        const { time: _time, ...rest } = JSON.parse(line) as Record<string, unknown>;
        lines.push(rest);
      }
      done();
    },
  });
  const logger = pino({ level, redact: { paths: ["headers.authorization"], censor: "[x]" } }, sink);
  let children = 0;
  const child = logger.child;
  // Children inherit this property (pino makes them from their parent): grandchildren count too.
  logger.child = function (this: pino.Logger, ...args: Parameters<typeof child>) {
    children += 1;
    return child.apply(this, args);
  } as typeof logger.child;
  return { logger, lines, children: () => children };
}

const writeEveryLevel = (log: Pick<pino.BaseLogger, pino.Level>) => {
  log.fatal("f");
  log.error({ headers: { authorization: "Bearer secret" } }, "e %s", "arg");
  log.warn("w");
  log.info({ n: 1 }, "i");
  log.debug("d");
  log.trace("t");
};

describe("request loggers made on first use", () => {
  it("write what pino's own child writes, at every parent level", () => {
    for (const level of ["fatal", "warn", "info", "trace", "silent"] as const) {
      const lazy = capture(level);
      const eager = capture(level);
      writeEveryLevel(lazyRequestLogger(lazy.logger, { reqId: "r-1" }, {}));
      writeEveryLevel(eager.logger.child({ reqId: "r-1" }));
      expect(lazy.lines, level).toEqual(eager.lines);
      expect(JSON.stringify(lazy.lines)).not.toContain("secret");
    }
  });

  it("make no child while nothing is written at a kept level, and one child however much is", () => {
    const { logger, lines, children } = capture("warn");
    const log = lazyRequestLogger(logger, { reqId: "r-2" }, {});
    log.info("dropped");
    log.debug("dropped");
    log.trace("dropped");
    expect(children()).toBe(0);
    log.warn("kept");
    log.error("kept");
    expect(children()).toBe(1);
    expect(lines.map((l) => [l.reqId, l.msg])).toEqual([
      ["r-2", "kept"],
      ["r-2", "kept"],
    ]);
  });

  it("follow the parent's level as it is when they write, and a level of their own", () => {
    const { logger, lines, children } = capture("warn");
    const log = lazyRequestLogger(logger, { reqId: "r-3" }, {});
    expect(log.level).toBe("warn");
    logger.level = "debug";
    expect(log.level).toBe("debug");
    log.debug("after the parent's change");
    const own = lazyRequestLogger(logger, { reqId: "r-4" }, { level: "error" });
    expect(own.level).toBe("error");
    own.warn("below its own level");
    expect(children()).toBe(1); // r-3's: none made for a line below r-4's own level
    own.error("at its own level");
    const raised = lazyRequestLogger(logger, { reqId: "r-5" }, {});
    raised.level = "fatal";
    raised.error("below the level set on it");
    expect(lines.map((l) => [l.reqId, l.msg])).toEqual([
      ["r-3", "after the parent's change"],
      ["r-4", "at its own level"],
    ]);
  });

  it("give fastify the request logs its own child loggers give, children keeping the request id", async () => {
    const serve = async (lazy: boolean) => {
      const { logger, lines } = capture("info");
      const app = Fastify({
        loggerInstance: logger,
        ...(lazy ? { childLoggerFactory: lazyRequestLogger } : {}),
        genReqId: () => "req-7",
      });
      app.get("/", async (request) => {
        request.log.child({ part: "handler" }).info("inside");
        return { ok: true };
      });
      app.get("/quiet", { logLevel: "error" }, async (request) => {
        request.log.warn("below the route's level");
        return { ok: true };
      });
      try {
        for (const url of ["/", "/quiet"])
          expect((await app.inject({ method: "GET", url })).statusCode).toBe(200);
      } finally {
        await app.close();
      }
      // The raw request and reply objects differ between the two runs (they hold the loggers).
      return lines.map(({ req: _req, res: _res, responseTime: _time, ...line }) => line);
    };
    const lazy = await serve(true);
    expect(lazy).toEqual(await serve(false));
    expect(lazy.map((l) => [l.reqId, l.msg, l.part])).toEqual([
      ["req-7", "incoming request", undefined],
      ["req-7", "inside", "handler"],
      ["req-7", "request completed", undefined],
    ]);
  });
});
