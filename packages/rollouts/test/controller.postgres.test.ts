import { runControllerSuite } from "./controller-suite.ts";

// Needs DATABASE_URL (the suite fails with a clear message without it).
runControllerSuite("postgres");
