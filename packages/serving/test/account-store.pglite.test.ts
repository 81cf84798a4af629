import { runAccountStoreSuite } from "./account-store-suite.ts";

// Embedded PGlite: needs no service.
runAccountStoreSuite("pglite");
