import { runMonitoringSuite } from "./monitoring-suite.ts";

runMonitoringSuite("pglite");
