import { runRolloutsEndToEnd } from "./rollouts-e2e-suite.ts";

runRolloutsEndToEnd("embedded");
