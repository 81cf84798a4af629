import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Every Prometheus metric the serving path records, on its own registry (no global state). */
export class ServingMetrics {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: "reco_http_request_duration_seconds",
    help: "HTTP request latency by route and status",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly inferenceDuration = new Histogram({
    name: "reco_inference_duration_seconds",
    help: "ONNX inference latency per batch",
    labelNames: ["model"] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25],
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: "reco_inference_batch_size",
    help: "Requests per inference batch",
    labelNames: ["model"] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [this.registry],
  });
  readonly cacheRequests = new Counter({
    name: "reco_cache_requests_total",
    help: "Result cache lookups by outcome (hit, miss, error = cache unavailable, counted as a miss)",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  readonly modelLoads = new Counter({
    name: "reco_model_loads_total",
    help: "Model session loads by outcome",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  readonly modelEvictions = new Counter({
    name: "reco_model_evictions_total",
    help: "Model sessions evicted from the LRU and released",
    registers: [this.registry],
  });
  readonly modelsLoaded = new Gauge({
    name: "reco_models_loaded",
    help: "Model sessions held in memory",
    registers: [this.registry],
  });
  readonly fallbacks = new Counter({
    name: "reco_fallbacks_total",
    help: "Answers served from popularity because the model path failed, by reason",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly recommendations = new Counter({
    name: "reco_recommendations_total",
    help: "Recommendations served by source (model, foldin, popularity, cache)",
    labelNames: ["source"] as const,
    registers: [this.registry],
  });
  readonly busPublishFailures = new Counter({
    name: "reco_bus_publish_failures_total",
    help: "Failed publish attempts to the event bus (messages stay queued and are retried)",
    registers: [this.registry],
  });
  readonly eventQueueDepth = new Gauge({
    name: "reco_event_queue_depth",
    help: "Events waiting in the in-memory queue to the bus",
    registers: [this.registry],
  });
  readonly eventsDropped = new Counter({
    name: "reco_events_dropped_total",
    help: "Events not queued because the queue was full, by kind (telemetry dropped; feedback refused with 503)",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });
  readonly feedbackTimeouts = new Counter({
    name: "reco_feedback_ack_timeouts_total",
    help: "Feedback requests answered 503 because the bus did not store their events within the bound",
    registers: [this.registry],
  });
  readonly eventsPublished = new Counter({
    name: "reco_events_published_total",
    help: "Events published to the bus",
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: "reco_rate_limited_total",
    help: "Requests refused with 429",
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true)
      collectDefaultMetrics({ register: this.registry, prefix: "reco_" });
  }

  /** Value of a counter/gauge for one label set (tests and diagnostics). */
  async value(
    metric: Counter<string> | Gauge<string>,
    labels: Record<string, string> = {},
  ): Promise<number> {
    const data = await metric.get();
    const match = data.values.find((v) =>
      Object.entries(labels).every(([k, val]) => v.labels[k] === val),
    );
    return match?.value ?? 0;
  }
}
