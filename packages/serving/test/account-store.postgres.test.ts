import { runAccountStoreSuite } from "./account-store-suite.ts";

// A scratch database on the PostgreSQL server at DATABASE_URL (scripts/services.sh).
runAccountStoreSuite("postgres");
