import { runModelsSuite } from "./models-suite.ts";

// Needs DATABASE_URL (the fixture fails with a clear message without it).
runModelsSuite("postgres");
