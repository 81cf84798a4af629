import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { ManagedProcess, makeTempDir, type PrivateProcess } from "./managed-process.ts";
import { kafkaClusterId } from "./names.ts";
import { freePort } from "./ports.ts";
import { kafkaLibsDir, repoRoot, run } from "./repo.ts";

export interface PrivateKafka extends PrivateProcess {
  /** ["127.0.0.1:<port>"], as kafkajs takes it. */
  readonly brokers: string[];
  /** "127.0.0.1:<port>", as KAFKA_BROKERS holds it. */
  readonly brokerList: string;
  readonly port: number;
}

export interface PrivateKafkaOptions {
  /** JVM heap in MB (default 384). */
  readonly heapMb?: number;
}

/**
 * Starts a single-node KRaft broker of its own (free ports, temp log dir formatted once), for
 * fault-injection tests. restart() reuses the log dir, so produced messages survive it.
 */
export async function startPrivateKafka(options: PrivateKafkaOptions = {}): Promise<PrivateKafka> {
  const libs = await kafkaLibsDir();
  const port = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  const dir = makeTempDir("kafka");
  const config = join(dir, "server.properties");
  const template = readFileSync(
    resolve(repoRoot, "scripts/kafka/server.properties.template"),
    "utf8",
  );
  writeFileSync(
    config,
    template
      .replaceAll("@BROKER_PORT@", String(port))
      .replaceAll("@CONTROLLER_PORT@", String(controllerPort))
      .replaceAll("@LOG_DIR@", join(dir, "data")),
  );
  const classpath = [
    "-cp",
    join(libs, "*"),
    `-Dlog4j.configuration=file:${resolve(repoRoot, "scripts/kafka/log4j.properties")}`,
  ];
  const logFile = join(dir, "kafka.log");
  const clusterId = kafkaClusterId();
  try {
    await run(
      "java",
      [...classpath, "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", config],
      {
        timeout: 60_000,
      },
    );
  } catch (error) {
    throw new Error(`private kafka: formatting ${dir} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const brokerList = `127.0.0.1:${port}`;
  const service = new ManagedProcess(
    {
      name: `private kafka on ${brokerList}`,
      command: "java",
      args: [
        `-Xmx${options.heapMb ?? 384}m`,
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-Djava.awt.headless=true",
        ...classpath,
        "kafka.Kafka",
        config,
      ],
      logFile,
      stopSignal: "SIGTERM",
      stopTimeoutMs: 30_000,
      ready: () => listTopics(brokerList),
      readyTimeoutMs: 90_000,
    },
    dir,
  );
  await service.start();
  return Object.assign(service, { brokers: [brokerList], brokerList, port });
}

async function listTopics(broker: string): Promise<void> {
  const admin = new Kafka({
    clientId: "testkit-ready",
    brokers: [broker],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
