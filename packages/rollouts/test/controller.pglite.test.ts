import { runControllerSuite } from "./controller-suite.ts";

runControllerSuite("pglite");
