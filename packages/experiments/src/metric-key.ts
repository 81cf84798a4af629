import { z } from "zod";
import { METRICS, type MetricKey } from "./metrics.ts";

/** A metric's key, validated against METRICS (definitions, results). */
export const metricKeySchema = z.enum(Object.keys(METRICS) as [MetricKey, ...MetricKey[]]);
