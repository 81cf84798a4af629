import { join } from "node:path";
import { openFileLogBus } from "./file-log.ts";
import { connectKafkaBus } from "./kafka.ts";
import type { BusLogger, EventBus } from "./port.ts";

export * from "./port.ts";
export { openFileLogBus, FileLogBus, type FileLogOptions } from "./file-log.ts";
export { connectKafkaBus, KafkaBus, type KafkaBusOptions, type ConsumerTiming } from "./kafka.ts";

export interface EventBusConfig {
  /** "host:port[,…]": use Kafka. Unset or empty: the embedded file log under `<dataDir>/events`. */
  kafkaBrokers?: string;
  dataDir: string;
  clientId: string;
  logger?: BusLogger;
  /**
   * Embedded log only: topics made durable every 200 ms (LAZY_SYNC_MS) instead of before each publish
   * resolves (FileLogOptions.lazySync). Kafka's brokers keep their own flush policy.
   */
  lazySyncTopics?: readonly string[];
}

/** Chooses the adapter from configuration (the composition root's only bus decision). */
export function createEventBus(config: EventBusConfig): Promise<EventBus> {
  if (config.kafkaBrokers)
    return connectKafkaBus({
      brokers: config.kafkaBrokers,
      clientId: config.clientId,
      logger: config.logger,
    });
  return openFileLogBus({
    dir: join(config.dataDir, "events"),
    logger: config.logger,
    lazySync: { topics: config.lazySyncTopics ?? [] },
  });
}
export {
  pipelineMonitor,
  readPipelineBacklog,
  type PipelineBacklog,
  type PipelineMonitor,
  type PipelineReading,
} from "./pipeline.ts";
