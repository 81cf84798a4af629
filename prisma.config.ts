import { defineConfig } from "prisma/config";

// Migrations are applied by `npm run db:migrate` (packages/db), which runs offline on PGlite or PostgreSQL.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
});
