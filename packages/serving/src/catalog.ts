import type { PrismaClient } from "@reco/db";

export interface CatalogItem {
  itemId: string;
  title: string;
  genres: string[];
  year: number | null;
}

/** The item catalog held in memory (titles for answers, existence checks); reloaded on demand. */
export class Catalog {
  private constructor(private readonly items: Map<string, CatalogItem>) {}

  get(itemId: string): CatalogItem | undefined {
    return this.items.get(itemId);
  }

  get size(): number {
    return this.items.size;
  }

  ids(): string[] {
    return [...this.items.keys()];
  }

  static fromItems(items: CatalogItem[]): Catalog {
    return new Catalog(new Map(items.map((item) => [item.itemId, item])));
  }

  static async load(prisma: PrismaClient): Promise<Catalog> {
    const rows = await prisma.item.findMany({
      select: { externalId: true, title: true, genres: true, year: true },
      orderBy: { id: "asc" },
    });
    return Catalog.fromItems(
      rows.map((row) => ({
        itemId: row.externalId,
        title: row.title,
        genres: row.genres,
        year: row.year,
      })),
    );
  }
}
