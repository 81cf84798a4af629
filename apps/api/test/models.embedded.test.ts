import { runModelsSuite } from "./models-suite.ts";

runModelsSuite("pglite");
