import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError, envFields, parseEnv } from "./config.ts";

const schema = z.object({
  PORT: envFields.port.default(4000),
  DATABASE_URL: envFields.databaseUrl,
  KAFKA_BROKERS: envFields.kafkaBrokers,
  DATA_DIR: envFields.dataDir,
});

describe("parseEnv", () => {
  it("applies defaults and coerces numbers", () => {
    expect(parseEnv(schema, { PORT: "8080" })).toEqual({ PORT: 8080, DATA_DIR: ".data" });
  });

  it("treats an empty variable as unset", () => {
    expect(parseEnv(schema, { DATABASE_URL: "" })).toEqual({ PORT: 4000, DATA_DIR: ".data" });
  });

  it("names every bad variable with its value in one line", () => {
    let message = "";
    try {
      parseEnv(schema, { PORT: "http", DATABASE_URL: "mysql://x", KAFKA_BROKERS: "broker" });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).not.toContain("\n");
    expect(message).toMatch(/^invalid configuration: /);
    expect(message).toContain('PORT="http"');
    expect(message).toContain('DATABASE_URL="mysql://x": must be a postgresql:// URL');
    expect(message).toContain('KAFKA_BROKERS="broker": must be host:port');
  });
});
