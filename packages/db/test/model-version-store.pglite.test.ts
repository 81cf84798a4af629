import { runModelVersionStoreSuite } from "./model-version-store-suite.ts";

// Embedded PGlite: needs no service.
runModelVersionStoreSuite("pglite");
