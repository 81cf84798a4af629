import { runMonitoringSuite } from "./monitoring-suite.ts";

// Needs DATABASE_URL (the fixture fails with a clear message without it).
runMonitoringSuite("postgres");
